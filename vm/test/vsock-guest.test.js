// Boots ONE VM and runs the @porthole/vsock checks inside it over vsock_loopback.
// Each check's verdict is printed by the guest and asserted here.
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';

// One VM per file; boots under TCG are slow and vary with load.
vi.setConfig({ hookTimeout: 240_000, testTimeout: 60_000 });
import { fileURLToPath } from 'node:url';
import { bootVm, vmUnavailableReason } from '../harness/index.js';

const skip = vmUnavailableReason();
if (skip) console.warn(`[skip] VM tests skipped: ${skip}`);
const appDir = fileURLToPath(new URL('./guest-app', import.meta.url));

describe.skipIf(!!skip)('@porthole/vsock inside a QEMU microVM', () => {
  let run, byName;
  beforeAll(async () => {
    const vm = await bootVm({ appDir, agentCommand: 'node vsock-checks.mjs', lifetimeMs: 240_000 });
    const exit = await vm.waitExit(200_000);
    run = { readyMs: vm.readyMs, ...exit, results: vm.results() };
    byName = Object.fromEntries(run.results.map((r) => [r.name, r]));
    process.stderr.write(`vsock-guest: ready ${run.readyMs.toFixed(0)} ms\n${run.results.map((r) => JSON.stringify(r)).join('\n')}\n`);
  });

  const get = (name) => {
    const r = byName[name];
    expect(r, `guest printed no result for ${name}\n${run.output.slice(-3000)}`).toBeDefined();
    expect(r.ok, r.error).toBe(true);
    return r;
  };

  it('guest ran every check and exited 0', () => {
    expect(get('done').ok).toBe(true);
    expect(run.agentExit).toBe(0);
  });

  it('connect/listen/accept expose peer CID and port on real net.Sockets', () => {
    const r = get('connect-listen-peer');
    expect(r.isNetSocket).toBe(true);
    expect(r.accepted.remoteCid).toBe(1);
    expect(r.accepted.remotePort).toBe(r.client.localPort);
    expect(r.accepted.localPort).toBe(7000);
    expect(r.client).toMatchObject({ remoteCid: 1, remotePort: 7000 });
    expect(r.echo).toBe(4);
  });

  it('a guest dialling CID 2 reaches a listener on the loopback transport', () => {
    expect(get('cid2-reaches-loopback-listener').bytes).toBe(1);
  });

  it('maps errors to Node codes', () => {
    const r = get('errors');
    expect(r.refused).toEqual({ code: 'ECONNREFUSED', errno: -111, syscall: 'connect' });
    expect(r.noTransport).toMatchObject({ code: 'ENODEV', syscall: 'connect' });
    expect(r.inUse).toEqual({ code: 'EADDRINUSE', errno: -98, syscall: 'bind' });
    expect(r.queuedWrite).toBe('ECONNREFUSED');
  });

  it('moves 16 MiB intact (sha256)', () => {
    const r = get('transfer-16MiB-sha256');
    expect(r.match).toBe(true);
    expect(r.bytes).toBe(16 * 1024 * 1024);
  });

  it('applies backpressure: write() false, then drain, memory bounded', () => {
    const r = get('backpressure');
    expect(r.bytesBeforeFalse).toBeLessThan(8 * 1024 * 1024);
    expect(r.writableLengthWhileBlocked).toBeLessThan(1024 * 1024);
    expect(r.rssDeltaMiB).toBeLessThan(64);
    expect(r.received).toBeGreaterThan(0);
  });

  it('EOF and half-open work', () => {
    expect(get('end-eof-halfopen').reply).toBe('got 1000');
  });

  it('a peer destroying the connection is noticed by a busy writer', () => {
    const r = get('peer-destroy-is-noticed');
    expect(r.closed).toBe(true);
    if (r.error) expect(['ECONNRESET', 'EPIPE']).toContain(r.error);
  });

  it('handles 64 concurrent connections on one thread', () => {
    expect(get('many-connections')).toMatchObject({ succeeded: 64, of: 64 });
  });

  it('carries HTTP/2 (what grpc-js runs on)', () => {
    expect(get('http2-over-vsock').body).toBe('h2 ok');
  });

  it('records round trip and throughput figures', () => {
    const rtt = get('rtt-vsock-vs-uds');
    expect(rtt.vsock.p50).toBeGreaterThan(0);
    expect(get('one-way-throughput').MBps).toBeGreaterThan(0);
  });
});
