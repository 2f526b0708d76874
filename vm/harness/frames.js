// Framing for the single virtio-serial byte pipe between host and guest.
// Header: 'P' 'H' type:u8 id:u32be len:u32be, then len payload bytes.
// The magic lets a reader resynchronise after bytes were lost around a reconnect
// (virtio-serial drops what is written before the other end opens the port).
export const T = { HELLO: 1, OPEN: 2, OPEN_OK: 3, DATA: 4, CREDIT: 5, CLOSE: 6, RESET: 7 };
export const HEADER = 11;
export const MAX_PAYLOAD = 64 * 1024;

export function encode(type, id, payload = EMPTY) {
  const h = Buffer.allocUnsafe(HEADER);
  h[0] = 0x50; h[1] = 0x48; h[2] = type;
  h.writeUInt32BE(id, 3);
  h.writeUInt32BE(payload.length, 7);
  return payload.length ? [h, payload] : [h];
}
const EMPTY = Buffer.alloc(0);

export function u32(n) { const b = Buffer.allocUnsafe(4); b.writeUInt32BE(n >>> 0); return b; }

// Incremental decoder; calls onFrame(type, id, payload) and counts skipped garbage.
// Chunks are queued and each frame is assembled with at most one copy: virtio-serial
// hands the guest small reads, and re-concatenating a growing buffer per read was
// quadratic under TCG.
export class Decoder {
  constructor(onFrame) { this.onFrame = onFrame; this.reset(); this.skipped = 0; }

  reset() { this.chunks = []; this.len = 0; }

  // The first n queued bytes as one buffer, without consuming them.
  _peek(n) {
    if (this.chunks[0].length >= n) return this.chunks[0];
    const b = Buffer.concat(this.chunks);
    this.chunks = [b];
    return b;
  }

  _take(n) {
    let out;
    const first = this.chunks[0];
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift(); else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let o = 0;
      while (o < n) {
        const c = this.chunks[0];
        const k = Math.min(c.length, n - o);
        c.copy(out, o, 0, k);
        o += k;
        if (k === c.length) this.chunks.shift(); else this.chunks[0] = c.subarray(k);
      }
    }
    this.len -= n;
    return out;
  }

  push(chunk) {
    if (!chunk.length) return;
    this.chunks.push(chunk);
    this.len += chunk.length;
    while (this.len >= HEADER) {
      const h = this._peek(HEADER);
      const type = h[2];
      const len = h.readUInt32BE(7);
      if (h[0] !== 0x50 || h[1] !== 0x48 || type < T.HELLO || type > T.RESET || len > MAX_PAYLOAD) {
        const b = this._peek(this.len);                 // rare: resync on the next magic byte
        const next = b.indexOf(0x50, 1);
        const skip = next < 0 ? b.length : next;
        this.skipped += skip;
        this._take(skip);
        continue;
      }
      if (this.len < HEADER + len) return;
      const id = h.readUInt32BE(3);
      this._take(HEADER);
      this.onFrame(type, id, len ? this._take(len) : Buffer.alloc(0));
    }
  }
}
