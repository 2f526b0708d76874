// Compares client-side designs for a vsock stream inside the guest, against the same
// @porthole/vsock (pipe handle) server: A = net.Socket over a libuv pipe handle
// (shipped), B = JS Duplex driven by uv_poll + read()/send() from the addon (rejected).
import { Duplex } from 'node:stream';
import { once } from 'node:events';
import { constants as osc } from 'node:os';
import { listen, connectAsync } from '@porthole/vsock';
import { binding } from '@porthole/vsock/internal-binding';
import { check, pingPong, report } from './lib.mjs';

const b = binding();
const MiB = 1024 * 1024;
const EAGAIN = -osc.errno.EAGAIN;

class PollDuplex extends Duplex {
  constructor(fd) {
    super({ highWaterMark: 64 * 1024 });
    this.fd = fd; this.rbuf = Buffer.allocUnsafe(64 * 1024); this.wantRead = false; this.pw = null;
    this.poll = b.pollStart(fd, 0, (st, ev) => {
      if (ev & b.UV_READABLE && this.wantRead) this._doRead();
      if (ev & b.UV_WRITABLE && this.pw) this._doWrite();
    });
  }
  _events2() { if (!this.destroyed) b.pollUpdate(this.poll, (this.wantRead ? b.UV_READABLE : 0) | (this.pw ? b.UV_WRITABLE : 0)); }
  _read() { this.wantRead = true; this._doRead(); }
  _doRead() {
    for (;;) {
      const n = b.rawRead(this.fd, this.rbuf);
      if (n > 0) { if (!this.push(Buffer.from(this.rbuf.subarray(0, n)))) { this.wantRead = false; break; } continue; }
      if (n === 0) { this.wantRead = false; this.push(null); break; }
      if (n === EAGAIN) break;
      return this.destroy(new Error(`read ${n}`));
    }
    this._events2();
  }
  _write(chunk, enc, cb) { this.pw = { chunk, off: 0, cb }; this._doWrite(); }
  _doWrite() {
    const w = this.pw;
    while (w.off < w.chunk.length) {
      const n = b.rawWrite(this.fd, w.chunk.subarray(w.off));
      if (n > 0) { w.off += n; continue; }
      if (n === EAGAIN) return this._events2();
      this.pw = null; return w.cb(new Error(`send ${n}`));
    }
    this.pw = null; this._events2(); w.cb();
  }
  _destroy(err, cb) { b.pollStop(this.poll); b.close(this.fd); cb(err); }
}

async function connectB(cid, port) {
  const fd = b.socket();
  if (!b.connect(fd, cid, port)) {
    await new Promise((resolve, reject) => {
      const p = b.pollStart(fd, b.UV_WRITABLE, () => { b.pollStop(p); const e = b.soError(fd); e ? reject(new Error(`connect ${e}`)) : resolve(); });
    });
  }
  return new PollDuplex(fd);
}

const echo = listen(7100, {}, (s) => s.pipe(s));
let counted = 0;
const sink = listen(7101, {}, (s) => s.on('data', (d) => { counted += d.length; }));
const source = listen(7102, {}, async (s) => { const c = Buffer.alloc(64 * 1024, 5); for (let i = 0; i < 512; i++) if (!s.write(c)) await once(s, 'drain'); });
await Promise.all([once(echo, 'listening'), once(sink, 'listening'), once(source, 'listening')]);

async function bench(name, dial) {
  await check(`option-${name}`, async () => {
    const e = await dial(7100);
    await pingPong(e, 100);
    const rtt = await pingPong(e, 1000);
    e.destroy();
    counted = 0;
    const w = await dial(7101);
    const chunk = Buffer.alloc(64 * 1024, 9);
    let t = performance.now();
    for (let i = 0; i < 512; i++) if (!w.write(chunk)) await once(w, 'drain');
    for (let i = 0; i < 3000 && counted < 32 * MiB; i++) await new Promise((r) => setTimeout(r, 5));
    const writeMBps = +((32 * MiB) / ((performance.now() - t) / 1000) / 1e6).toFixed(2);
    w.destroy();
    const r = await dial(7102);
    t = performance.now();
    let got = 0;
    await new Promise((resolve) => r.on('data', (d) => { got += d.length; if (got >= 32 * MiB) resolve(); }));
    const readMBps = +((32 * MiB) / ((performance.now() - t) / 1000) / 1e6).toFixed(2);
    r.destroy();
    return { rtt, writeMBps, readMBps, rssMiB: +(process.memoryUsage().rss / MiB).toFixed(1) };
  }, 120_000);
}

const rounds = Number(process.argv[2] ?? 2);
for (let i = 0; i < rounds; i++) {
  await bench('A-pipe-handle', (p) => connectAsync(1, p));
  await bench('B-uvpoll-duplex', (p) => connectB(1, p));
}
report('bench-done', true);
process.exit(0);
