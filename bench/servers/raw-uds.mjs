// The raw socket baseline: Node `net` over Unix sockets, no framing at all.
//   echo socket: writes back every byte it receives.
//   bulk socket: reads an 8-byte length, then sends that many bytes in
//                64 KiB writes, respecting backpressure, and ends.
import { createServer } from 'node:net';
import { unlink } from 'node:fs/promises';

const [echoPath, bulkPath] = process.argv.slice(2);
const CHUNK = Buffer.alloc(64 * 1024, 7);
const MAX_BULK_BYTES = 2 ** 34;

const echo = createServer((socket) => {
  socket.on('data', (data) => socket.write(data));
  socket.on('error', () => undefined);
});

const bulk = createServer((socket) => {
  socket.on('error', () => undefined);
  socket.once('readable', function start() {
    const head = socket.read(8);
    if (!head) return void socket.once('readable', start);
    const total = Math.min(Number(head.readBigUInt64BE(0)), MAX_BULK_BYTES);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const data = total - sent >= CHUNK.length ? CHUNK : CHUNK.subarray(0, total - sent);
        sent += data.length;
        if (!socket.write(data)) return void socket.once('drain', pump);
      }
      socket.end();
    };
    pump();
  });
});

for (const path of [echoPath, bulkPath]) await unlink(path).catch(() => undefined);
await new Promise((resolve) => echo.listen(echoPath, resolve));
await new Promise((resolve) => bulk.listen(bulkPath, resolve));
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
process.once('SIGTERM', () => process.exit(0));
