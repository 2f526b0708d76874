// Guest side of the boundary benchmark (constant buffers, no hashing: transport only).
// Dials CID 2 like a Firecracker guest; serves echo (52) and sink (53) for the host.
import { once } from 'node:events';
import { listen, connectAsync } from '@porthole/vsock';
import { check, pingPong, report } from './lib.mjs';

const MiB = 1024 * 1024;
const [ECHO, SINK, SOURCE] = process.argv.slice(2).map(Number);
listen(52, {}, (s) => s.pipe(s));
listen(53, { allowHalfOpen: true }, (s) => { let n = 0; s.on('data', (d) => { n += d.length; }); s.on('end', () => s.end(String(n))); });
const stop = new Promise((resolve) => listen(54, {}, (s) => { s.end('bye'); resolve(); }));

await check('g2h', async () => {
  const e = await connectAsync(2, ECHO);
  await pingPong(e, 100);
  const rtt = await pingPong(e, 1000);
  e.destroy();
  const w = await connectAsync(2, SINK, { allowHalfOpen: true });
  const chunk = Buffer.alloc(64 * 1024, 1);
  let t = performance.now();
  for (let i = 0; i < 512; i++) if (!w.write(chunk)) await once(w, 'drain');
  w.end();
  let reply = ''; w.on('data', (d) => { reply += d; }); await once(w, 'end');
  const writeMBps = +((32 * MiB) / ((performance.now() - t) / 1000) / 1e6).toFixed(2);
  const r = await connectAsync(2, SOURCE);
  t = performance.now();
  let got = 0;
  await new Promise((resolve) => { r.on('data', (d) => { got += d.length; if (got >= 32 * MiB) resolve(); }); });
  const readMBps = +((32 * MiB) / ((performance.now() - t) / 1000) / 1e6).toFixed(2);
  r.destroy();
  return { rtt, writeMBps, readMBps, hostCounted: Number(reply) };
}, 120_000);
report('g2h-done', true);
await Promise.race([stop, new Promise((r) => setTimeout(r, 120_000))]);
process.exit(0);
