import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { limitsSchema } from '@porthole/shared';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';

import { SandboxUsage } from '../accounting/sandbox-usage.js';
import { AuditLog } from '../audit/audit-log.js';
import { CallAdmission } from '../limits/call-admission.js';
import { CallScope } from './call-scope.js';

describe('CallScope CPU charges', () => {
  const folders: string[] = [];
  afterEach(async () => {
    for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
  });

  async function scopeDeps() {
    const folder = await mkdtemp(join(tmpdir(), 'porthole-scope-'));
    folders.push(folder);
    const audit = new AuditLog(join(folder, 'audit.jsonl'));
    await audit.ready();
    return {
      sandbox: 'alpha',
      // 20 ms a second, and a request rate high enough never to refuse.
      admission: new CallAdmission(limitsSchema.parse({ cpuMsPerSecond: 20, requestsPerSecond: 1000, burst: 1000 })),
      audit,
      usage: new SandboxUsage(),
      log: pino({ enabled: false }),
      stallMs: 1000,
    };
  }

  function refusal(admission: CallAdmission): { retryAfterMs?: number } {
    try {
      admission.admit()();
    } catch (error) {
      return error as { retryAfterMs?: number };
    }
    throw new Error('the call was admitted');
  }

  it('charges the budget while the call runs and stops once it ends', async () => {
    const deps = await scopeDeps();
    const scope = new CallScope(deps, 'WriteOutput');
    scope.admit();
    // 30 ms against a burst of 20: 10 ms of debt, half a second to repay.
    scope.addCpu(30);
    scope.succeed();
    const { retryAfterMs } = refusal(deps.admission);
    expect(retryAfterMs).toBeGreaterThan(450);
    expect(retryAfterMs).toBeLessThanOrEqual(500);

    // Work still done in the ended call's context (closing its stream,
    // the audit flush its line started) must not move that retry-after.
    scope.addCpu(1000);
    expect(refusal(deps.admission).retryAfterMs).toBeLessThanOrEqual(500);
    expect(deps.usage.snapshot().cpuMs).toBe(30);
    deps.audit.flush();
    await deps.audit.close();
    const line = JSON.parse((await readFile(join(folders[0]!, 'audit.jsonl'), 'utf8')).trim()) as { cpuMs: number };
    expect(line.cpuMs).toBe(30);
  });

  it('charges nothing to a call refused at admission', async () => {
    const deps = await scopeDeps();
    const first = new CallScope(deps, 'Hello');
    first.admit();
    first.addCpu(30);
    first.succeed();
    const refused = new CallScope(deps, 'Hello');
    expect(() => refused.admit()).toThrow(/CPU budget/);
    refused.addCpu(1000);
    expect(refusal(deps.admission).retryAfterMs).toBeLessThanOrEqual(500);
  });
});
