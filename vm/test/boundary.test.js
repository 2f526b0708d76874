// Boots ONE VM and checks the Firecracker-shaped boundary: guest AF_VSOCK CID 2 port P
// -> guest relay -> virtio-serial -> harness -> host Unix socket `<uds_path>_P`, and the
// host-initiated direction (`CONNECT 52\n` on uds_path). Also measures the same
// workload over a plain host Unix socket for comparison.
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';

// One VM per file; boots under TCG are slow and vary with load.
vi.setConfig({ hookTimeout: 240_000, testTimeout: 60_000 });
import net from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootVm, vmUnavailableReason } from '../harness/index.js';
import { pingPong, writeAll, readAll } from './guest-app/lib.mjs';

const skip = vmUnavailableReason();
if (skip) console.warn(`[skip] VM tests skipped: ${skip}`);
const appDir = fileURLToPath(new URL('./guest-app', import.meta.url));
const ECHO = 1024, CLOSED = 1025, RESET = 1026, SINK = ECHO + 100;
const MiB = 1024 * 1024;

// Firecracker's host side for guest-initiated connections: a listener per port.
function udsServer(path, onConn) {
  const s = net.createServer({ allowHalfOpen: true }, onConn);
  s.listen(path);
  return s;
}

// Host-initiated connection through the hybrid-vsock handshake, retried while the
// guest agent is not yet listening (the relay resets, like Firecracker closing).
async function hybridConnect(udsPath, port, tries = 50) {
  for (let i = 0; i < tries; i++) {
    const s = net.connect(udsPath);
    await once(s, 'connect');
    s.write(`CONNECT ${port}\n`);
    const line = await new Promise((resolve) => {
      let buf = '';
      const onData = (d) => {
        buf += d;
        const nl = buf.indexOf('\n');
        if (nl >= 0) { s.off('data', onData); const rest = buf.slice(nl + 1); if (rest) s.unshift(Buffer.from(rest)); resolve(buf.slice(0, nl)); }
      };
      s.on('data', onData);
      s.once('close', () => resolve(null));
    });
    if (line?.startsWith('OK ')) return s;
    s.destroy();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`CONNECT ${port} never answered OK`);
}

describe.skipIf(!!skip)('Firecracker-shaped vsock boundary through the harness', () => {
  let vm, dir, servers = [], results = {}, host = {};
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phb-'));
    const uds = join(dir, 'v.sock');
    servers.push(udsServer(`${uds}_${ECHO}`, (s) => s.pipe(s)));
    servers.push(udsServer(`${uds}_${SINK}`, (s) => readAll(s).then((r) => s.end(String(r.bytes)))));
    servers.push(udsServer(`${uds}_${RESET}`, (s) => setTimeout(() => s.destroy(), 100)));
    vm = await bootVm({ appDir, udsPath: uds, guestPorts: [ECHO, CLOSED, RESET, SINK], agentCommand: `node boundary.mjs ${ECHO} ${CLOSED} ${RESET}`, lifetimeMs: 240_000 });
    // Wait (bounded) for the guest to finish its guest-initiated checks.
    for (let i = 0; i < 1200 && !vm.output.includes('"guest-done"'); i++) await new Promise((r) => setTimeout(r, 100));
    results = Object.fromEntries(vm.results().map((r) => [r.name, r]));

    // Host-initiated: hybrid vsock CONNECT through the relay to the guest's port 52.
    const c = await hybridConnect(uds, 52);
    await pingPong(c, 50);
    host.rtt = await pingPong(c, 500);
    c.destroy();
    const b = await hybridConnect(uds, 52);
    const t = performance.now();
    const [sent, got] = await Promise.all([
      (async () => { const h = await writeAll(b, 8 * MiB); return h; })(),
      new Promise((resolve) => { let n = 0; b.on('data', (d) => { n += d.length; if (n >= 8 * MiB) resolve(n); }); }),
    ]);
    host.echoMBps = +((8 * MiB) / ((performance.now() - t) / 1000) / 1e6).toFixed(2);
    host.bytes = got; host.sent = sent;
    b.destroy();
    const e = await hybridConnect(uds, 52);
    e.write('exit');
    host.exitReply = (await once(e, 'data'))[0].toString();
    const exit = await vm.waitExit(60_000);
    host.agentExit = exit.agentExit;
    results = Object.fromEntries(vm.results().map((r) => [r.name, r]));

    // Same workloads over a plain host Unix socket, for the record.
    const p = join(dir, 'plain.sock');
    const plain = udsServer(p, (s) => s.pipe(s));
    await once(plain, 'listening');
    const pc = net.connect(p); await once(pc, 'connect');
    await pingPong(pc, 50);
    host.plainRtt = await pingPong(pc, 500);
    pc.destroy();
    const pb = net.connect({ path: p, allowHalfOpen: true }); await once(pb, 'connect');
    const t2 = performance.now();
    await Promise.all([writeAll(pb, 16 * MiB), readAll(pb)]);
    host.plainEchoMBps = +((16 * MiB) / ((performance.now() - t2) / 1000) / 1e6).toFixed(2);
    plain.close();
    process.stderr.write(`boundary: ready ${vm.readyMs.toFixed(0)} ms\n${JSON.stringify(results, null, 1)}\nhost: ${JSON.stringify(host)}\n`);
  });

  afterAll(async () => {
    await vm?.stop();
    for (const s of servers) s.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const get = (name) => {
    const r = results[name];
    expect(r, `no guest result ${name}\n${vm.output.slice(-3000)}`).toBeDefined();
    expect(r.ok, r.error).toBe(true);
    return r;
  };

  it('guest AF_VSOCK CID 2 reaches the host Unix socket <uds_path>_<port> (echo + sha256)', () => {
    const r = get('guest-to-host-echo');
    expect(r.match).toBe(true);
    expect(r.bytes).toBe(8 * MiB);
  });

  it('guest-to-host bulk transfer arrives whole', () => {
    expect(get('guest-to-host-one-way').MBps).toBeGreaterThan(0);
  });

  it('a missing host listener ends the guest connection', () => {
    expect(get('no-host-listener-is-reset').bytes).toBe(0);
  });

  it('a host-side reset is noticed by the guest writer', () => {
    get('host-reset-is-noticed');
  });

  it('host-initiated hybrid-vsock CONNECT reaches the guest listener', () => {
    expect(host.bytes).toBe(8 * MiB);
    expect(host.exitReply).toBe('bye');
    expect(host.agentExit).toBe(0);
    expect(get('guest-exit').ok).toBe(true);
  });
});
