// Bare grpc-js figures against servers/grpc-echo.mjs.
import * as grpc from '@grpc/grpc-js';

import { closedLoop, timeTransfer } from '../lib/closed-loop.mjs';
import { echoPackage } from '../lib/echo-proto.mjs';

const PAYLOAD = Buffer.alloc(64, 1);
const CHUNK = 64 * 1024;
const clients = new Map();

// `options` is either {} (stock grpc-js) or the channel options the
// Porthole SDK sets, so both comparisons can be made.
function client(path, options) {
  const key = `${path} ${JSON.stringify(options)}`;
  let found = clients.get(key);
  if (!found) {
    const Echo = echoPackage().Echo;
    found = new Echo(`unix:${path}`, grpc.credentials.createInsecure(), options);
    clients.set(key, found);
  }
  return found;
}

export async function grpcUnary({ path, concurrency = 1, measureMs, options = {} }) {
  const echo = client(path, options);
  const op = () => new Promise((resolve, reject) => {
    echo.Unary({ data: PAYLOAD }, (error) => (error ? reject(error) : resolve()));
  });
  return closedLoop({ op, concurrency, measureMs });
}

/** Server streaming: `bytes` in 64 KiB messages, consumed as they arrive. */
export async function grpcDown({ path, bytes, options = {} }) {
  const echo = client(path, options);
  return timeTransfer(bytes, () => new Promise((resolve, reject) => {
    let got = 0;
    const call = echo.Down({ bytes, chunk: CHUNK });
    call.on('data', (msg) => (got += msg.data.length));
    call.on('end', () => resolve(got));
    call.on('error', reject);
  }));
}

/** Client streaming of `bytes` in 64 KiB messages, with backpressure. */
export async function grpcUp({ path, bytes, toFile = false, options = {} }) {
  const echo = client(path, options);
  const chunk = Buffer.alloc(CHUNK, 3);
  return timeTransfer(bytes, () => new Promise((resolve, reject) => {
    const call = echo[toFile ? 'UpToFile' : 'Up']((error, count) => (error ? reject(error) : resolve(count.bytes)));
    let sent = 0;
    const pump = () => {
      while (sent < bytes) {
        const data = bytes - sent >= chunk.length ? chunk : chunk.subarray(0, bytes - sent);
        sent += data.length;
        if (!call.write({ data })) return void call.once('drain', pump);
      }
      call.end();
    };
    pump();
  }));
}

/** One small server-streaming call per operation: latency, not bytes. */
export async function grpcDownLatency({ path, bytes, measureMs, options = {} }) {
  const echo = client(path, options);
  const op = () => new Promise((resolve, reject) => {
    const call = echo.Down({ bytes, chunk: CHUNK });
    call.on('data', () => undefined);
    call.on('end', resolve);
    call.on('error', reject);
  });
  return closedLoop({ op, measureMs });
}
