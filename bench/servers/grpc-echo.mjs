// The bare grpc-js baseline server on a Unix socket: no policy, no audit,
// no admission, the same message sizes as Porthole.
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

import * as grpc from '@grpc/grpc-js';

import { echoPackage } from '../lib/echo-proto.mjs';

const [socketPath, fileDir] = process.argv.slice(2);
const MAX_DOWN_BYTES = 2 ** 32;
let nextFile = 0;

const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
server.addService(echoPackage().Echo.service, {
  Unary(call, callback) {
    callback(null, { data: call.request.data });
  },

  Down(call) {
    const total = Math.min(call.request.bytes, MAX_DOWN_BYTES);
    const chunk = Buffer.alloc(call.request.chunk || 64 * 1024, 7);
    let sent = 0;
    const pump = () => {
      while (sent < total && !call.cancelled) {
        const data = total - sent >= chunk.length ? chunk : chunk.subarray(0, total - sent);
        sent += data.length;
        if (!call.write({ data })) return void call.once('drain', pump);
      }
      call.end();
    };
    pump();
  },

  Up(call, callback) {
    let bytes = 0;
    call.on('data', (msg) => (bytes += msg.data.length));
    call.on('end', () => callback(null, { bytes }));
    call.on('error', () => undefined);
  },

  UpToFile(call, callback) {
    receiveToFile(call).then((bytes) => callback(null, { bytes }), (error) => callback(error));
  },
});

// The same durable steps as an output: temporary file, write each chunk,
// fsync, rename into place.
async function receiveToFile(call) {
  const tmp = join(fileDir, `.tmp-${process.pid}-${nextFile++}`);
  const handle = await open(tmp, 'w', 0o640);
  let bytes = 0;
  try {
    for await (const msg of call) {
      bytes += msg.data.length;
      await handle.write(msg.data);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, join(fileDir, 'bare-output.bin'));
  return bytes;
}

await unlink(socketPath).catch(() => undefined);
server.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (error) => {
  if (error) throw error;
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
});
process.once('SIGTERM', () => {
  server.forceShutdown();
  process.exit(0);
});
