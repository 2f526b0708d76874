// Guest side of the boundary test: dials the host exactly as under Firecracker
// (AF_VSOCK CID 2, port P -> host Unix socket <uds_path>_P), then serves an echo on
// vsock port 52 for host-initiated connections until the host says "exit".
import { once } from 'node:events';
import { listen, connectAsync, VMADDR_CID_HOST } from '@porthole/vsock';
import { check, writeAll, readAll, pingPong, report, closed } from './lib.mjs';

const [echoPort, closedPort, resetPort] = process.argv.slice(2).map(Number);
const MiB = 1024 * 1024;

// Start the host-facing echo first so the host can connect while we run our checks.
const exitSignal = new Promise((resolve) => {
  const srv = listen(52, { allowHalfOpen: true }, (s) => {
    s.once('data', (d) => {
      if (d.toString() === 'exit') { s.end('bye'); resolve(); return; }
      s.write(d);
      s.pipe(s);
    });
  });
  srv.on('error', (e) => report('guest-listen-52', false, { error: e.message }));
});

await check('guest-to-host-echo', async () => {
  const c = await connectAsync(VMADDR_CID_HOST, echoPort);
  await pingPong(c, 50);
  const rtt = await pingPong(c, 500);
  c.destroy();
  const b = await connectAsync(VMADDR_CID_HOST, echoPort, { allowHalfOpen: true });
  const t = performance.now();
  const [sent, got] = await Promise.all([writeAll(b, 8 * MiB), readAll(b)]);
  return { rtt, match: sent === got.digest, bytes: got.bytes, echoMBps: +((8 * MiB) / ((performance.now() - t) / 1000) / 1e6).toFixed(2) };
}, 120_000);

await check('guest-to-host-one-way', async () => {
  const b = await connectAsync(VMADDR_CID_HOST, echoPort + 100, { allowHalfOpen: true });
  const t = performance.now();
  const reply = readAll(b);
  const sent = await writeAll(b, 16 * MiB);
  await reply;
  return { MBps: +((16 * MiB) / ((performance.now() - t) / 1000) / 1e6).toFixed(2), sent };
}, 120_000);

await check('no-host-listener-is-reset', async () => {
  // Nothing listens on <uds>_closedPort: Firecracker would RST; the relay has already
  // accepted, so the guest sees the connection end without data.
  const c = await connectAsync(VMADDR_CID_HOST, closedPort);
  c.on('error', () => {});
  const t = performance.now();
  let bytes = 0; c.on('data', (d) => { bytes += d.length; });
  await closed(c);
  return { closedAfterMs: +(performance.now() - t).toFixed(1), bytes };
});

await check('host-reset-is-noticed', async () => {
  const c = await connectAsync(VMADDR_CID_HOST, resetPort);
  let err = null; c.on('error', (e) => { err = e.code; });
  const iv = setInterval(() => c.write('x'.repeat(1024)), 5);
  await closed(c);
  clearInterval(iv);
  return { error: err };
});

report('guest-done', true);
await Promise.race([exitSignal, new Promise((r) => setTimeout(r, 90_000))]);
report('guest-exit', true);
process.exit(0);
