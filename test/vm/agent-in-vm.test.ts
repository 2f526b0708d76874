import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { bootVm, prepare, vmUnavailableReason, type Vm } from '../../vm/harness/index.js';
import { stageApp } from '../../vm/stage-app.js';
import { CutProxy } from '../support/cut-proxy.js';
import { sandboxEntry, TestHost } from '../support/host-fixture.js';

// Two microVMs at once, each an agent doing its whole job through AF_VSOCK
// (the SDK's in-VM default, vsock:2:52) across the VM boundary to a real
// host service: the harness plays Firecracker's vsock device, so the host
// sees connections on <uds_path>_52 exactly as under Firecracker. The first
// VM's connection runs through a proxy that resets it in the middle of a
// read and of a write, as a VMM restart or snapshot restore would.
const skip = vmUnavailableReason();
if (skip) console.warn(`[skip] VM tests skipped: ${skip}`);
vi.setConfig({ hookTimeout: 240_000, testTimeout: 60_000 });

const MiB = 1024 * 1024;
const AGENT = fileURLToPath(new URL('./guest/agent-e2e.mjs', import.meta.url));
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
type Result = { name: string; ok: boolean; error?: string; [key: string]: unknown };

describe.skipIf(!!skip)('agents inside microVMs, over vsock', () => {
  let host: TestHost;
  let proxy: CutProxy;
  const vms: Vm[] = [];
  const results: Record<string, Record<string, Result>> = {};
  const data = { alpha: randomBytes(6 * MiB), beta: randomBytes(1 * MiB) };

  beforeAll(async () => {
    host = await TestHost.start({ sandboxes: [sandboxEntry('alpha'), sandboxEntry('beta')] });
    await writeFile(join(host.artifacts('alpha'), 'alpha.bin'), data.alpha);
    await writeFile(join(host.artifacts('beta'), 'beta.bin'), data.beta);
    // alpha's VM reaches the host through the cutting proxy; beta's dials
    // the host's own <uds_path>_52.
    const alphaUds = join(host.dir, 'alpha-vm.vsock');
    proxy = await CutProxy.start(host.service.sockets.get('alpha')!, `${alphaUds}_52`);
    proxy.cutOnce({ direction: 'toGuest', afterBytes: 2 * MiB });
    proxy.cutOnce({ direction: 'toHost', afterBytes: 2 * MiB });

    const image = prepare(stageApp('agent-e2e', [AGENT]));
    const boot = (udsPath: string, mine: string, other: string, writeMib: number): Promise<Vm> => bootVm({
      image, udsPath, guestPorts: [52], lifetimeMs: 200_000, readyTimeoutMs: 60_000,
      agentCommand: `MINE=${mine} OTHER=${other} WRITE_MIB=${writeMib} node agent-e2e.mjs`,
    });
    vms.push(...await Promise.all([
      boot(alphaUds, 'alpha.bin', 'beta.bin', 4),
      boot(join(host.dir, 'run/beta.vsock'), 'beta.bin', 'alpha.bin', 1),
    ]));
    const exits = await Promise.all(vms.map((vm) => vm.waitExit(150_000)));
    for (const [index, id] of ['alpha', 'beta'].entries()) {
      results[id] = Object.fromEntries(vms[index]!.results().map((r: Result) => [r.name, r]));
      process.stderr.write(`vm ${id}: ready ${vms[index]!.readyMs.toFixed(0)} ms, agent exit ${exits[index]!.agentExit}\n${JSON.stringify(results[id])}\n`);
    }
  });

  afterAll(async () => {
    await Promise.all(vms.map((vm) => vm.stop()));
    await proxy?.close();
    await host?.stop();
  });

  const result = (id: string, name: string): Result => {
    const r = results[id]?.[name];
    expect(r, `no result ${name} from ${id}'s VM`).toBeDefined();
    expect(r!.ok, r!.error).toBe(true);
    return r!;
  };

  it('each agent reaches its own sandbox through the in-VM default address', () => {
    expect(result('alpha', 'hello')).toMatchObject({ sandboxId: 'alpha', address: null });
    expect(result('beta', 'hello')).toMatchObject({ sandboxId: 'beta', address: null });
    expect(result('alpha', 'list').names).toEqual(['alpha.bin']);
    expect(result('beta', 'list').names).toEqual(['beta.bin']);
  });

  it('a read reset in the middle resumes and matches the sha256', () => {
    expect(result('alpha', 'read')).toMatchObject({ bytes: data.alpha.length, sha256: sha256(data.alpha) });
    expect(result('beta', 'read')).toMatchObject({ bytes: data.beta.length, sha256: sha256(data.beta) });
  });

  it('a write reset in the middle is stored exactly once', async () => {
    const write = result('alpha', 'write');
    expect(write.sha256).toBe(write.sent);
    expect(proxy.cuts).toBe(2);
    const stored = await readFile(join(host.outputs('alpha'), 'from-vm.bin'));
    expect(sha256(stored)).toBe(write.sent);
    expect(await host.outputNames('alpha')).toEqual(['from-vm.bin']);
    expect(await host.temporaries('alpha')).toEqual([]);
  });

  it('neither sees the other one\'s artifacts or outputs', async () => {
    expect(result('alpha', 'read-other')).toMatchObject({ refused: true, code: 'NOT_FOUND' });
    expect(result('beta', 'read-other')).toMatchObject({ refused: true, code: 'NOT_FOUND' });
    const beta = await readFile(join(host.outputs('beta'), 'from-vm.bin'));
    expect(sha256(beta)).toBe(result('beta', 'write').sent);
    expect(await host.outputNames('beta')).toEqual(['from-vm.bin']);
  });

  it('reports round trips across the boundary', () => {
    const rtt = result('alpha', 'rtt');
    expect(rtt.p50).toBeGreaterThan(0);
    expect(result('alpha', 'guest-done')).toBeDefined();
  });
});
