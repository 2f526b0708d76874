// Opens one grpc-js channel per socket path (its own connection: a local
// subchannel pool), makes one call on each, and holds them open until
// SIGTERM or its lifetime ends. Prints one ready line.
//   node many-clients.mjs porthole|bare SOCKETS.json LIFETIME_MS
import { readFileSync } from 'node:fs';

import * as grpc from '@grpc/grpc-js';
import { PROTOCOL_MAJOR, portholeClientClass } from '@porthole/shared';

import { echoPackage } from '../lib/echo-proto.mjs';
import { SDK_CHANNEL_OPTIONS } from './porthole.mjs';

const [mode, socketsFile, lifetimeText] = process.argv.slice(2);
const sockets = JSON.parse(readFileSync(socketsFile, 'utf8'));
const lifetimeMs = Math.min(Number(lifetimeText) || 60_000, 300_000);
const BATCH = 50;
const CALL_DEADLINE_MS = 30_000;
const options = { ...SDK_CHANNEL_OPTIONS, 'grpc.use_local_subchannel_pool': 1 };

const Client = mode === 'bare' ? echoPackage().Echo : portholeClientClass();
const clients = [];

function callOnce(client) {
  const deadline = Date.now() + CALL_DEADLINE_MS;
  return new Promise((resolve) => {
    const done = (error) => resolve(!error);
    if (mode === 'bare') client.Unary({ data: Buffer.alloc(64) }, { deadline }, done);
    else client.hello({ sdkVersion: 'bench', protocolMajor: PROTOCOL_MAJOR }, { deadline }, done);
  });
}

let answered = 0;
for (let at = 0; at < sockets.length; at += BATCH) {
  const batch = sockets.slice(at, at + BATCH).map((path) => new Client(`unix:${path}`, grpc.credentials.createInsecure(), options));
  clients.push(...batch);
  const results = await Promise.all(batch.map(callOnce));
  answered += results.filter(Boolean).length;
}

const usage = process.memoryUsage();
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, clients: clients.length, answered, rss: usage.rss })}\n`);

const stopAll = () => {
  for (const client of clients) client.close();
  process.exit(0);
};
setTimeout(stopAll, lifetimeMs).unref();
process.once('SIGTERM', stopAll);
setInterval(() => undefined, 1000);
