// In-guest checks of @porthole/vsock over vsock_loopback (CID 1).
import net from 'node:net';
import http2 from 'node:http2';
import { once } from 'node:events';
import { execFileSync, spawn } from 'node:child_process';
import { listen, connect, connectAsync, VsockSocket } from '@porthole/vsock';
import { check, writeAll, readAll, pingPong, report, closed } from './lib.mjs';

const MiB = 1024 * 1024;
const echoServer = (port, opts = {}) => new Promise((resolve, reject) => {
  const s = listen(port, opts, (c) => c.pipe(c));
  s.once('listening', () => resolve(s)).once('error', reject);
});

await check('connect-listen-peer', async () => {
  const srv = await echoServer(7000);
  const accepted = once(srv, 'connection');
  const c = await connectAsync(1, 7000);
  const [a] = await accepted;
  const r = {
    isNetSocket: c instanceof net.Socket && a instanceof VsockSocket,
    client: { remoteCid: c.remoteCid, remotePort: c.remotePort, localPort: c.localPort },
    accepted: { remoteCid: a.remoteCid, remotePort: a.remotePort, localCid: a.localCid, localPort: a.localPort },
    address: srv.address(),
  };
  c.end('ping');
  r.echo = (await readAll(c)).bytes;
  srv.close();
  return r;
});

await check('cid2-reaches-loopback-listener', async () => {
  const srv = await echoServer(7001);
  const c = await connectAsync(2, 7001);
  c.end('x');
  const { bytes } = await readAll(c);
  srv.close();
  return { bytes, remoteCid: c.remoteCid };
});

await check('errors', async () => {
  const codes = {};
  for (const [name, cid, port] of [['refused', 1, 7999], ['noTransport', 3, 7000]]) {
    try { await connectAsync(cid, port, { timeout: 5000 }); codes[name] = 'connected?'; }
    catch (e) { codes[name] = { code: e.code, errno: e.errno, syscall: e.syscall }; }
  }
  const a = await echoServer(7002);
  const b = listen(7002);
  const [e] = await once(b, 'error').catch((x) => [x]);
  codes.inUse = { code: e.code, errno: e.errno, syscall: e.syscall };
  a.close();
  // A write queued before the connect failed must be reported, not silently dropped.
  const s = connect(1, 7998);
  s.write('queued');
  const [e2] = await once(s, 'error').catch((x) => [x]);
  codes.queuedWrite = e2.code;
  return codes;
});

await check('transfer-16MiB-sha256', async () => {
  const srv = await echoServer(7003);
  const c = await connectAsync(1, 7003);
  const t = performance.now();
  const [sent, got] = await Promise.all([writeAll(c, 16 * MiB), readAll(c)]);
  const s = (performance.now() - t) / 1000;
  srv.close();
  return { match: sent === got.digest, bytes: got.bytes, echoMBps: +((16 * MiB) / s / 1e6).toFixed(2) };
}, 120_000);

await check('one-way-throughput', async () => {
  const srv = listen(7004, {}, async (c) => { const r = await readAll(c); c.end(String(r.bytes)); });
  await once(srv, 'listening');
  const c = await connectAsync(1, 7004, { allowHalfOpen: true });
  const t = performance.now();
  const reply = readAll(c);
  await writeAll(c, 32 * MiB);
  await reply;
  srv.close();
  return { MBps: +((32 * MiB) / ((performance.now() - t) / 1000) / 1e6).toFixed(2) };
}, 120_000);

await check('backpressure', async () => {
  let accepted;
  const srv = listen(7005, {}, (a) => { a.pause(); accepted = a; });
  await once(srv, 'listening');
  const c = await connectAsync(1, 7005);
  const rss0 = process.memoryUsage().rss;
  const chunk = Buffer.alloc(64 * 1024, 1);
  let written = 0;
  while (c.write(chunk)) { written += chunk.length; if (written > 256 * MiB) throw new Error('write() never returned false'); }
  written += chunk.length;
  // Keep going a little: net queues in user space only what write() already accepted.
  await new Promise((r) => setTimeout(r, 300));
  const queued = c.writableLength;
  const drained = once(c, 'drain');
  const t = performance.now();
  accepted.resume();
  let received = 0;
  accepted.on('data', (d) => { received += d.length; });
  await drained;
  const rssDelta = process.memoryUsage().rss - rss0;
  c.destroy(); accepted.destroy(); srv.close();
  return { bytesBeforeFalse: written, writableLengthWhileBlocked: queued, drainAfterMs: +(performance.now() - t).toFixed(1), received, rssDeltaMiB: +(rssDelta / MiB).toFixed(1) };
});

await check('end-eof-halfopen', async () => {
  const srv = listen(7006, { allowHalfOpen: true }, async (a) => {
    const r = await readAll(a); // EOF from the client
    a.end(`got ${r.bytes}`); // and we can still write after it (half-open)
  });
  await once(srv, 'listening');
  const c = await connectAsync(1, 7006, { allowHalfOpen: true });
  c.end(Buffer.alloc(1000));
  let text = '';
  for await (const d of c) text += d;
  srv.close();
  return { reply: text };
});

await check('peer-destroy-is-noticed', async () => {
  const srv = listen(7007, {}, (a) => setTimeout(() => a.destroy(), 50));
  await once(srv, 'listening');
  const c = await connectAsync(1, 7007);
  let err = null;
  c.on('error', (e) => { err = e.code; });
  const iv = setInterval(() => c.write(Buffer.alloc(16 * 1024)), 5); // a busy writer
  await closed(c);
  clearInterval(iv);
  srv.close();
  return { closed: true, error: err };
});

await check('many-connections', async () => {
  const srv = await echoServer(7008);
  const N = 64;
  const results = await Promise.all(Array.from({ length: N }, async (_, i) => {
    const c = await connectAsync(1, 7008);
    c.end(`conn-${i}`);
    let s = ''; for await (const d of c) s += d;
    return s === `conn-${i}`;
  }));
  srv.close();
  return { succeeded: results.filter(Boolean).length, of: N };
});

await check('http2-over-vsock', async () => {
  const h2 = http2.createServer();
  h2.on('stream', (st) => { st.respond({ ':status': 200 }); st.end('h2 ok'); });
  const srv = listen(7009, {}, (s) => h2.emit('connection', s));
  await once(srv, 'listening');
  const client = http2.connect('http://vsock', { createConnection: () => connect(1, 7009) });
  const req = client.request({ ':path': '/' });
  let body = ''; req.setEncoding('utf8');
  for await (const d of req) body += d;
  client.close(); srv.close();
  return { body };
});

await check('rtt-vsock-vs-uds', async () => {
  const srv = await echoServer(7010);
  const c = await connectAsync(1, 7010);
  c.setNoDelay?.(true);
  await pingPong(c, 100); // warm-up
  const vsock = await pingPong(c, 1000);
  c.destroy(); srv.close();
  const u = net.createServer((s) => s.pipe(s)).listen('/tmp/echo.sock');
  await once(u, 'listening');
  const uc = net.connect('/tmp/echo.sock');
  await once(uc, 'connect');
  await pingPong(uc, 100);
  const uds = await pingPong(uc, 1000);
  uc.destroy(); u.close();
  return { vsock, uds };
}, 60_000);

await check('uds-throughput-in-guest', async () => {
  const u = net.createServer({ allowHalfOpen: true }, async (c) => { const r = await readAll(c); c.end(String(r.bytes)); }).listen('/tmp/bulk.sock');
  await once(u, 'listening');
  const c = net.connect({ path: '/tmp/bulk.sock', allowHalfOpen: true });
  await once(c, 'connect');
  const t = performance.now();
  const reply = readAll(c);
  await writeAll(c, 32 * MiB);
  await reply;
  u.close();
  return { MBps: +((32 * MiB) / ((performance.now() - t) / 1000) / 1e6).toFixed(2) };
}, 120_000);

await check('socat-kernel-ceiling', async () => {
  // socat is the "no addon" alternative; its one-way rate bounds what the kernel path gives.
  const sink = spawn('socat', ['-u', 'VSOCK-LISTEN:7011', 'OPEN:/dev/null'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  const t = performance.now();
  execFileSync('sh', ['-c', 'dd if=/dev/zero bs=65536 count=512 2>/dev/null | socat -u - VSOCK-CONNECT:1:7011'], { timeout: 60_000 });
  const MBps = +((32 * MiB) / ((performance.now() - t) / 1000) / 1e6).toFixed(2);
  sink.kill();
  return { MBps };
}, 90_000);

report('done', true);
process.exit(0);
