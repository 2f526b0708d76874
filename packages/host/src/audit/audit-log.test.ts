import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { AUDIT_FLUSH_MS, AuditLog, type AuditEntry } from './audit-log.js';

const entry = (target: string): AuditEntry => ({
  time: '2026-12-04T00:00:00.000Z', sandbox: 'alpha', action: 'Hello', target, decision: 'allowed',
  reason: null, message: null, bytes: 0, bytesIn: 0, bytesOut: 0, upstreamMs: 0, cpuMs: 0, durationMs: 0.1,
});

describe('AuditLog', () => {
  let dir: string;
  let path: string;
  let log: AuditLog;
  const lines = async (): Promise<string[]> => (await readFile(path, 'utf8')).split('\n').filter(Boolean);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porthole-audit-'));
    path = join(dir, 'audit.jsonl');
    log = new AuditLog(path);
    await log.ready();
  });
  afterEach(async () => {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gathers the lines of calls close together into one append, within AUDIT_FLUSH_MS', async () => {
    for (let i = 0; i < 3; i++) log.record(entry(`t${i}`));
    expect(await lines()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, AUDIT_FLUSH_MS * 2));
    expect((await lines()).map((l) => (JSON.parse(l) as AuditEntry).target)).toEqual(['t0', 't1', 't2']);
  });

  it('appends at once when 64 KiB have gathered', async () => {
    const long = 'x'.repeat(1000);
    for (let i = 0; i < 70; i++) log.record(entry(long));
    // About 1.2 KB a line: the first 64 KiB are out, the rest wait.
    const written = (await lines()).length;
    expect(written).toBeGreaterThanOrEqual(50);
    expect(written).toBeLessThan(70);
  });

  it('appends what is left on flush and on close', async () => {
    log.record(entry('a'));
    log.flush();
    expect(await lines()).toHaveLength(1);
    log.record(entry('b'));
    await log.close();
    expect(await lines()).toHaveLength(2);
  });
});
