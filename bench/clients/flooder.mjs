// A sandbox flooding its host: readers stream an artifact back to back and
// callers hammer Hello, ignoring RATE_LIMITED (a hostile guest does not
// wait). Runs until SIGTERM or its lifetime ends, then prints its counts.
//   node flooder.mjs SOCKET ARTIFACT LIFETIME_MS
import * as grpc from '@grpc/grpc-js';
import { PROTOCOL_MAJOR, portholeClientClass } from '@porthole/shared';

import { SDK_CHANNEL_OPTIONS } from './porthole.mjs';

const [socket, artifact, lifetimeText] = process.argv.slice(2);
const lifetimeMs = Math.min(Number(lifetimeText) || 30_000, 120_000);
const READERS = 8;
const CALLERS = 32;

const Client = portholeClientClass();
const client = new Client(`unix:${socket}`, grpc.credentials.createInsecure(), SDK_CHANNEL_OPTIONS);
const counts = { calls: 0, refused: 0, bytes: 0, reads: 0 };
let stopping = false;

function hello() {
  return new Promise((resolve) => {
    client.hello({ sdkVersion: 'flood', protocolMajor: PROTOCOL_MAJOR }, (error) => {
      if (error) counts.refused++;
      else counts.calls++;
      resolve();
    });
  });
}

function read() {
  return new Promise((resolve) => {
    const call = client.readArtifact({ name: artifact, offset: 0 });
    call.on('data', (msg) => (counts.bytes += msg.chunk?.length ?? 0));
    call.on('end', () => resolve(counts.reads++));
    call.on('error', () => resolve(counts.refused++));
  });
}

async function loop(op) {
  while (!stopping) {
    await op();
    // Refused calls come back at once; yield so the loop stays a loop.
    await new Promise(setImmediate);
  }
}

await hello();
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
const loops = [
  ...Array.from({ length: READERS }, () => loop(read)),
  ...Array.from({ length: CALLERS }, () => loop(hello)),
];

const finish = async () => {
  stopping = true;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 2000))]);
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  client.close();
  process.exit(0);
};
setTimeout(finish, lifetimeMs).unref();
process.once('SIGTERM', finish);
