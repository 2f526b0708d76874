// Multiplexes vsock-like stream connections over one framed byte pipe. The same code
// runs as the guest relay (vsock side) and in the harness (Unix socket side).
// Flow control is per connection with credits, so one slow reader never stalls the
// pipe for the others and memory stays bounded by WINDOW per connection.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { T, encode, u32, Decoder, MAX_PAYLOAD } from './frames.js';

export const WINDOW = 256 * 1024;

export class Mux extends EventEmitter {
  /**
   * @param {object} o
   * @param {'host'|'guest'} o.role  host ids are even, guest ids odd
   * @param {(port:number)=>Promise<import('node:stream').Duplex>} o.dial  opens the local end of a peer-initiated connection
   */
  constructor({ role, dial, log = () => {} }) {
    super();
    this.role = role;
    this.dial = dial;
    this.log = log;
    this.session = randomBytes(8).toString('hex');
    this.peerSession = null;
    this.isReady = false;
    this.conns = new Map();
    this.nextId = role === 'host' ? 2 : 1;
    this.pipe = null;
    this.decoder = new Decoder((t, id, p) => this._onFrame(t, id, p));
  }

  // Attach the byte pipe (the QEMU chardev socket on the host, /dev/vportNpM in the guest).
  attach(pipe) {
    this.detach(new Error('replaced'));
    this.pipe = pipe;
    this.decoder.reset();
    pipe.on('data', (c) => this.decoder.push(c));
    const gone = (err) => { if (this.pipe === pipe) this.detach(err ?? new Error('pipe closed')); };
    pipe.on('error', gone);
    pipe.on('close', () => gone());
    this._hello();
    // The host keeps saying hello until the guest echoes its session: the first ones
    // are dropped while the guest has not opened the port yet. Bounded: 100 ms x 1200.
    if (this.role === 'host') {
      let n = 0;
      this._helloTimer = setInterval(() => {
        if (this.isReady || ++n > 1200) clearInterval(this._helloTimer); else this._hello();
      }, 100);
    }
  }

  detach(err) {
    clearInterval(this._helloTimer);
    if (!this.pipe) return;
    const p = this.pipe;
    this.pipe = null;
    this.isReady = false;
    p.destroy();
    this._resetAll(err);
  }

  _send(type, id, payload) {
    if (!this.pipe || this.pipe.destroyed) return false;
    for (const b of encode(type, id, payload)) this.pipe.write(b);
    return true;
  }

  _hello() {
    this._send(T.HELLO, 0, Buffer.from(JSON.stringify({ role: this.role, s: this.session, p: this.peerSession })));
  }

  _resetAll(err) {
    for (const c of this.conns.values()) c.sock.destroy();
    if (this.conns.size) this.log(`reset ${this.conns.size} connection(s): ${err?.message ?? 'peer session changed'}`);
    this.conns.clear();
  }

  _onFrame(type, id, p) {
    if (type === T.HELLO) return this._onHello(p);
    if (!this.isReady) return; // frames from before the handshake belong to a dead session
    if (type === T.OPEN) return this._onOpen(id, p.readUInt32BE(0));
    const c = this.conns.get(id);
    // CREDIT/CLOSE may trail a normal close, so only data for a dead id earns a RESET.
    if (!c) { if (type === T.DATA || type === T.OPEN_OK) this._send(T.RESET, id); return; }
    switch (type) {
      case T.OPEN_OK: c.open = true; c.onOk?.(); this._pump(c); break;
      case T.DATA:
        c.sock.write(p, () => this._send(T.CREDIT, id, u32(p.length)));
        break;
      case T.CREDIT:
        c.credit += p.readUInt32BE(0);
        if (c.credit > 0 && c.sock.isPaused() && c.open) c.sock.resume();
        break;
      case T.CLOSE: c.peerEnded = true; c.sock.end(); break;
      case T.RESET: c.resetByPeer = true; this.conns.delete(id); c.sock.destroy(); break;
    }
  }

  _onHello(p) {
    let h;
    try { h = JSON.parse(p.toString()); } catch { return; }
    const fresh = h.s !== this.peerSession;
    if (this.peerSession && fresh) this._resetAll(new Error('peer restarted'));
    this.peerSession = h.s;
    // Answer a new peer session (so it learns we saw it) or a peer that has not seen us.
    // Both conditions go false after one exchange, so hellos do not ping-pong forever.
    if (fresh || h.p !== this.session) this._hello();
    if (h.p === this.session && !this.isReady) { this.isReady = true; clearInterval(this._helloTimer); this.emit('ready'); }
  }


  async _onOpen(id, port) {
    let sock;
    try { sock = await this.dial(port); } catch (e) {
      this.log(`dial port ${port} failed: ${e.code ?? e.message}`);
      this._send(T.RESET, id);
      return;
    }
    const c = this._track(id, sock, port);
    c.open = true;
    this._send(T.OPEN_OK, id);
    this._pump(c);
  }

  /** Carry a locally accepted socket to the peer's port. onOk fires once the peer end is connected. */
  open(port, sock, onOk) {
    if (!this.isReady) { sock.destroy(); return; }
    const id = this.nextId; this.nextId += 2;
    sock.pause();
    const c = this._track(id, sock, port);
    c.onOk = onOk;
    this._send(T.OPEN, id, u32(port));
  }

  _track(id, sock, port) {
    const c = { id, sock, port, credit: WINDOW, open: false, ended: false, peerEnded: false };
    this.conns.set(id, c);
    sock.on('data', (chunk) => {
      for (let o = 0; o < chunk.length; o += MAX_PAYLOAD) this._send(T.DATA, id, chunk.subarray(o, o + MAX_PAYLOAD));
      c.credit -= chunk.length;
      if (c.credit <= 0) sock.pause(); // overshoot is at most one read (64 KiB)
    });
    sock.on('end', () => { c.ended = true; this._send(T.CLOSE, id); });
    sock.on('error', () => {});
    sock.on('close', () => {
      if (this.conns.get(id) !== c) return;
      this.conns.delete(id);
      if (!(c.ended && c.peerEnded) && !c.resetByPeer) this._send(T.RESET, id);
    });
    return c;
  }

  _pump(c) { if (c.credit > 0) c.sock.resume(); }
}
