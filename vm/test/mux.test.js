// Host-only tests of the serial framing and multiplexer (no VM, no vsock): two Mux
// instances joined by an in-memory pipe that, like virtio-serial, can lose bytes and
// can be re-attached on one side without the other side noticing the close.
import { describe, it, expect } from 'vitest';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mux } from '../harness/mux.js';
import { Decoder, encode, T } from '../harness/frames.js';

// One end of a byte pipe; `peer` receives what we write. `drop` loses writes.
class End extends Duplex {
  constructor() { super(); this.peer = null; this.drop = false; }
  _read() {}
  _write(c, e, cb) { if (!this.drop && this.peer && !this.peer.destroyed) this.peer.push(c); cb(); }
}
const pair = () => { const a = new End(), b = new End(); a.peer = b; b.peer = a; return [a, b]; };
const until = async (f, ms = 5000) => { for (let i = 0; i < ms / 10 && !f(); i++) await new Promise((r) => setTimeout(r, 10)); return f(); };

function echoServer(path) {
  const s = net.createServer({ allowHalfOpen: true }, (c) => c.pipe(c));
  s.listen(path);
  return once(s, 'listening').then(() => s);
}

describe('frames', () => {
  it('resynchronises after garbage and a truncated frame', () => {
    const got = [];
    const d = new Decoder((t, id, p) => got.push([t, id, p.toString()]));
    const data = Buffer.concat([...encode(T.DATA, 3, Buffer.from('hello'))]);
    d.push(Buffer.from('PH\x09garbage-P'));                 // bad type, then noise
    d.push(data.subarray(0, 4)); d.push(data.subarray(4));   // split frame
    expect(got).toEqual([[T.DATA, 3, 'hello']]);
    expect(d.skipped).toBeGreaterThan(0);
  });
});

describe('Mux over a lossy pipe', () => {
  it('the host keeps saying hello until the guest, which opened late, answers', async () => {
    const [h, g] = pair();
    const host = new Mux({ role: 'host', dial: async () => { throw new Error('no'); } });
    const guest = new Mux({ role: 'guest', dial: async () => { throw new Error('no'); } });
    g.drop = true; h.drop = true;            // guest port not open yet: bytes vanish
    host.attach(h);
    await new Promise((r) => setTimeout(r, 250));
    h.drop = false; g.drop = false;
    guest.attach(g);
    expect(await until(() => host.isReady && guest.isReady)).toBe(true);
    host.detach(); guest.detach();
  });

  it('carries a connection end to end, then resets it when the host session changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phmux-'));
    const srv = await echoServer(join(dir, 'v.sock_5'));
    const dialUds = (port) => new Promise((res, rej) => { const s = net.connect({ path: join(dir, `v.sock_${port}`), allowHalfOpen: true }); s.once('connect', () => res(s)).once('error', rej); });
    const [h, g] = pair();
    const host = new Mux({ role: 'host', dial: dialUds });
    const guest = new Mux({ role: 'guest', dial: async () => { throw new Error('unused'); } });
    host.attach(h); guest.attach(g);
    await until(() => host.isReady && guest.isReady);

    // A "guest program" socket: one end of a local socket pair handed to the guest mux.
    const lp = join(dir, 'local.sock');
    const local = net.createServer({ allowHalfOpen: true }, (s) => guest.open(5, s)).listen(lp);
    await once(local, 'listening');
    const prog = net.connect({ path: lp, allowHalfOpen: true });
    await once(prog, 'connect');
    const big = Buffer.alloc(3 * 1024 * 1024, 7); // > WINDOW: exercises credits
    let got = 0;
    prog.on('data', (d) => { got += d.length; });
    prog.write(big);
    expect(await until(() => got === big.length, 10_000), `echoed ${got}`).toBe(true);

    // Host restarts: a new host mux on a new pipe, while the guest never saw a close.
    host.detach();
    const [h2, g2] = pair();
    g2.peer = g; h2.peer = g; g.peer = h2;        // new host writes into the old guest end
    const host2 = new Mux({ role: 'host', dial: dialUds });
    host2.attach(h2);
    expect(await until(() => host2.isReady)).toBe(true);
    // The guest reset the stale connection: the program sees EOF (it is half-open capable).
    expect(await until(() => prog.readableEnded || prog.destroyed, 5000), `guest conns ${guest.conns.size}`).toBe(true);
    expect(guest.conns.size).toBe(0);
    host2.detach(); guest.detach(); srv.close(); local.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
