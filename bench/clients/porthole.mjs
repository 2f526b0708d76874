// Porthole figures, through the guest SDK as an agent would use it. Hello
// goes through the generated client with the SDK's channel options, because
// the SDK caches hello() and would not make a round trip.
import { connect } from '@porthole/guest';
import { MAX_MESSAGE_BYTES, PROTOCOL_MAJOR, portholeClientClass } from '@porthole/shared';
import * as grpc from '@grpc/grpc-js';

import { closedLoop, timeTransfer } from '../lib/closed-loop.mjs';

/** The channel options of packages/guest/src/client.ts. */
export const SDK_CHANNEL_OPTIONS = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc-node.flow_control_window': 4 * 1024 * 1024,
  'grpc.enable_channelz': 0,
};

const CHUNK = 64 * 1024;
const sdks = new Map();
const raw = new Map();

function sdk(path) {
  let found = sdks.get(path);
  if (!found) sdks.set(path, (found = connect({ address: `unix:${path}` })));
  return found;
}

function generated(path) {
  let found = raw.get(path);
  if (!found) {
    const Client = portholeClientClass();
    raw.set(path, (found = new Client(`unix:${path}`, grpc.credentials.createInsecure(), SDK_CHANNEL_OPTIONS)));
  }
  return found;
}

export async function portholeHello({ path, concurrency = 1, measureMs }) {
  const client = generated(path);
  const op = () => new Promise((resolve, reject) => {
    client.hello({ sdkVersion: 'bench', protocolMajor: PROTOCOL_MAJOR }, (error) => (error ? reject(error) : resolve()));
  });
  return closedLoop({ op, concurrency, measureMs });
}

export async function portholeRead({ path, name, bytes }) {
  const porthole = sdk(path);
  return timeTransfer(bytes, async () => {
    const stream = await porthole.readArtifact(name);
    let got = 0;
    for await (const part of stream) got += part.length;
    return got;
  });
}

export async function portholeWrite({ path, name, bytes }) {
  const porthole = sdk(path);
  const chunk = Buffer.alloc(CHUNK, 3);
  function* chunks() {
    for (let sent = 0; sent < bytes; sent += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, bytes - sent));
  }
  return timeTransfer(bytes, async () => (await porthole.writeOutput(name, chunks())).size);
}

async function fetchAll(porthole, url) {
  const response = await porthole.fetch(url);
  let got = 0;
  for await (const part of response.body) got += part.length;
  return got;
}

export async function portholeFetchLatency({ path, url, measureMs }) {
  const porthole = sdk(path);
  return closedLoop({ op: () => fetchAll(porthole, url), measureMs });
}

/** `times` sequential fetches of a `bytes` body, timed together. */
export async function portholeFetchBulk({ path, url, bytes, times = 1 }) {
  const porthole = sdk(path);
  return timeTransfer(bytes * times, async () => {
    let got = 0;
    for (let i = 0; i < times; i++) got += await fetchAll(porthole, url);
    return got;
  });
}

export function closeAll() {
  for (const porthole of sdks.values()) porthole.close();
  for (const client of raw.values()) client.close();
  sdks.clear();
  raw.clear();
}

/** One small ReadArtifact per operation, through the SDK: latency. */
export async function portholeReadLatency({ path, name, length, measureMs }) {
  const porthole = sdk(path);
  const op = async () => {
    const stream = await porthole.readArtifact(name, { length });
    for await (const part of stream) void part;
  };
  return closedLoop({ op, measureMs });
}
