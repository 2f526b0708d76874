// Helpers for in-guest checks: results go to the console as PORTHOLE_RESULT lines,
// which the vitest file on the host parses (vsock exists only inside the VM).
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';

export function report(name, ok, detail = {}) {
  console.log('PORTHOLE_RESULT ' + JSON.stringify({ name, ok, ...detail }));
}

// Run one named check with a time bound; a thrown error becomes a failed result.
export async function check(name, fn, ms = 30_000) {
  let timer;
  try {
    const detail = await Promise.race([fn(), new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`timeout ${ms} ms`)), ms); })]);
    report(name, true, detail ?? {});
  } catch (e) {
    report(name, false, { error: e?.stack ?? String(e), code: e?.code });
  } finally { clearTimeout(timer); }
}

export const sha256 = () => createHash('sha256');

// Write `total` bytes of random data honouring write()/drain; returns the digest.
export async function writeAll(sock, total, chunk = 64 * 1024) {
  const h = sha256();
  const block = randomBytes(chunk);
  for (let sent = 0; sent < total; sent += chunk) {
    block.writeUInt32LE(sent, 0); // vary content so reordering would change the hash
    const piece = Buffer.from(block);
    h.update(piece);
    if (!sock.write(piece)) await once(sock, 'drain');
  }
  sock.end();
  return h.digest('hex');
}

// Events, not for-await: the async iterator destroys the socket at EOF, which would
// kill the write side of a half-open connection.
export function readAll(sock) {
  const h = sha256();
  let n = 0;
  return new Promise((resolve, reject) => {
    sock.on('data', (c) => { h.update(c); n += c.length; });
    sock.once('end', () => resolve({ digest: h.digest('hex'), bytes: n }));
    sock.once('error', reject);
  });
}

export function pct(a, p) { const s = [...a].sort((x, y) => x - y); return +s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(3); }

// Ping-pong `n` messages of `size` bytes on a connected echo socket; latencies in ms.
export async function pingPong(sock, n = 1000, size = 64) {
  const msg = Buffer.alloc(size, 7);
  const lat = [];
  let got = 0, resolveOne;
  sock.on('data', (d) => { got += d.length; if (got >= size) { got -= size; resolveOne(); } });
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const p = new Promise((r) => { resolveOne = r; });
    sock.write(msg);
    await p;
    lat.push(performance.now() - t);
  }
  return { n, p50: pct(lat, 0.5), p90: pct(lat, 0.9), p99: pct(lat, 0.99) };
}

// Resolves on 'close' whatever precedes it (events.once would reject on 'error').
export function closed(sock) { return new Promise((resolve) => sock.once('close', resolve)); }
