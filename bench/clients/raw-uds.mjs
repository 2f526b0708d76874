// Raw socket figures: 64-byte echo round trips and one-way bulk bytes.
import { connect } from 'node:net';

import { closedLoop, timeTransfer } from '../lib/closed-loop.mjs';

const PING = Buffer.alloc(64, 1);

/** Round trips of 64 bytes, one connection per concurrent worker. */
export async function rawEcho({ path, concurrency = 1, measureMs }) {
  const sockets = await Promise.all(Array.from({ length: concurrency }, () => open(path)));
  const free = [...sockets];
  try {
    return await closedLoop({ concurrency, measureMs, op: () => roundTrip(free) });
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

function roundTrip(free) {
  const socket = free.pop();
  return new Promise((resolve) => {
    let got = 0;
    const onData = (data) => {
      got += data.length;
      if (got < PING.length) return;
      socket.off('data', onData);
      free.push(socket);
      resolve();
    };
    socket.on('data', onData);
    socket.write(PING);
  });
}

/** Receives `bytes` from the bulk server, 64 KiB writes on its side. */
export async function rawBulk({ path, bytes }) {
  return timeTransfer(bytes, async () => {
    const socket = await open(path);
    const head = Buffer.alloc(8);
    head.writeBigUInt64BE(BigInt(bytes));
    socket.write(head);
    let got = 0;
    for await (const data of socket) got += data.length;
    return got;
  });
}

function open(path) {
  return new Promise((resolve, reject) => {
    const socket = connect(path, () => resolve(socket));
    socket.once('error', reject);
  });
}
