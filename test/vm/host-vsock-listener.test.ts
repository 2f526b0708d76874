import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { bootVm, prepare, vmUnavailableReason, type Vm } from '../../vm/harness/index.js';
import { stageApp } from '../../vm/stage-app.js';

// One microVM running a host service that listens on AF_VSOCK, as under QEMU
// vhost-vsock, with SDK clients in the same guest over vsock_loopback: the
// peer CID (1 here) picks the sandbox. Also gives the SDK's vsock transport
// cost next to a Unix socket, same guest, same host code.
const skip = vmUnavailableReason();
if (skip) console.warn(`[skip] VM tests skipped: ${skip}`);
vi.setConfig({ hookTimeout: 240_000, testTimeout: 60_000 });

const SCRIPT = fileURLToPath(new URL('./guest/host-in-guest.mjs', import.meta.url));
type Result = { name: string; ok: boolean; error?: string; [key: string]: unknown };

describe.skipIf(!!skip)('the host listening on AF_VSOCK, inside a microVM', () => {
  let vm: Vm | undefined;
  let results: Record<string, Result> = {};

  beforeAll(async () => {
    const image = prepare(stageApp('host-in-guest', [SCRIPT], { host: true }));
    vm = await bootVm({ image, agentCommand: 'node host-in-guest.mjs', lifetimeMs: 200_000, readyTimeoutMs: 60_000, memory: '512M' });
    const exit = await vm.waitExit(150_000);
    results = Object.fromEntries(vm.results().map((r: Result) => [r.name, r]));
    process.stderr.write(`host-in-guest: ready ${vm.readyMs.toFixed(0)} ms, exit ${exit.agentExit}\n${JSON.stringify(results)}\n`);
  });

  afterAll(async () => {
    await vm?.stop();
  });

  const result = (name: string): Result => {
    const r = results[name];
    expect(r, `no result ${name}: ${JSON.stringify(results.failed ?? {})}\n${vm?.output.slice(-2000)}`).toBeDefined();
    expect(r!.ok, JSON.stringify(r)).toBe(true);
    return r!;
  };

  it('serves the sandbox mapped to the peer CID, over the SDK\'s vsock transport', () => {
    expect(result('vsock')).toMatchObject({ sandboxId: 'loop' });
    expect(result('write')).toMatchObject({ output: 'over-vsock.txt', size: 22 });
  });

  it('closes a connection from a CID no sandbox has, and reports a missing listener', () => {
    expect(result('unknown-cid').code).toBe('UNAVAILABLE');
    expect(result('no-listener').code).toBe('UNAVAILABLE');
  });

  it('gives the same workload over a Unix socket for comparison', () => {
    expect(result('unix')).toMatchObject({ sandboxId: 'plain' });
    expect(result('guest-done')).toBeDefined();
  });
});
