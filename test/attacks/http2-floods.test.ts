import { writeFile } from 'node:fs/promises';
import { connect as h2connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HostProcess, processSandbox } from '../support/host-process.js';
import { grpcFrame, pb, RawGrpc } from '../support/raw-grpc.js';
import { ratioLine, sleep } from './figures.js';

// HTTP/2 floods of control frames (PING, SETTINGS, RST_STREAM,
// CONTINUATION) and connection floods are in
// test/e2e/grpc-server-hardening.test.ts. This file adds what they leave
// out, against a host in its own process: peers holding many streams they
// never read or never finish, and oversized or lying messages.

const CONNECTIONS = 8;
const STREAMS_PER_CONNECTION = 120;
const ARTIFACT_BYTES = 4 * 1024 * 1024;

describe('ATTACK http2: peers that hold streams and send oversized messages', () => {
  let host: HostProcess;

  beforeAll(async () => {
    host = await HostProcess.start([
      processSandbox('flood', { limits: { requestsPerSecond: 100_000, burst: 100_000, maxConcurrent: 16, stallTimeoutMs: 1_000, maxConnections: CONNECTIONS } }),
      processSandbox('steady', { limits: { requestsPerSecond: 100_000, burst: 100_000 } }),
    ], {
      prepare: async (dir) => {
        await writeFile(join(dir, 'flood/artifacts/big.bin'), Buffer.alloc(ARTIFACT_BYTES, 1));
        await writeFile(join(dir, 'steady/artifacts/small.txt'), 'small');
      },
    });
  });

  afterAll(async () => {
    await host?.stop();
  });

  const hello = grpcFrame(Buffer.concat([pb.bytes(1, 'attack'), pb.uint(2, 1)]));

  it('refuses oversized and lying messages with RESOURCE_EXHAUSTED', async () => {
    const raw = new RawGrpc(host.address('flood').slice('unix:'.length));
    const oversized = await raw.call('Hello', grpcFrame(Buffer.concat([pb.bytes(1, 'x'.repeat(3 * 1024 * 1024)), pb.uint(2, 1)])));
    // A prefix announcing 4 GiB followed by ten bytes: refused on the
    // announcement, not after buffering.
    const lying = await raw.call('WriteOutput', grpcFrame(Buffer.alloc(10), 0xffff_fff0));
    const afterwards = await raw.call('Hello', hello);
    raw.close();
    console.log(ratioLine('http2-oversized', `3 MiB Hello -> status ${oversized.status}, 4 GiB announced -> status ${lying.status}`, [
      `messages: ${JSON.stringify(oversized.message)}, ${JSON.stringify(lying.message)}`,
    ]));
    expect(oversized).toMatchObject({ status: 8, timedOut: false });
    expect(lying).toMatchObject({ status: 8, timedOut: false });
    expect(afterwards.status).toBe(0);
  });

  it('keeps serving a neighbour while a peer holds every stream it may, unread or unfinished', async () => {
    const socket = host.address('flood').slice('unix:'.length);
    const rssBefore = await host.memory();
    const sessions: ClientHttp2Session[] = [];
    let opened = 0;
    let refused = 0;
    for (let c = 0; c < CONNECTIONS; c++) {
      // Half the connections read nothing (window 0); the others open
      // calls and never send their message.
      const unread = c % 2 === 0;
      const session = h2connect('http://localhost', {
        createConnection: () => netConnect(socket),
        settings: { initialWindowSize: unread ? 0 : 65_535 },
      });
      session.on('error', () => undefined);
      sessions.push(session);
      for (let s = 0; s < STREAMS_PER_CONNECTION; s++) {
        const request = session.request({
          ':method': 'POST', ':path': `/porthole.v1.Porthole/${unread ? 'ReadArtifact' : 'Hello'}`,
          'content-type': 'application/grpc', te: 'trailers',
        }, { endStream: false });
        request.on('error', () => undefined);
        request.on('close', () => {
          if (request.rstCode === constants.NGHTTP2_REFUSED_STREAM) refused++;
        });
        request.pause();
        if (unread) request.end(grpcFrame(pb.bytes(1, 'big.bin')));
        else request.write(hello.subarray(0, 3));
        opened++;
      }
    }

    // The neighbour works while the streams are held.
    const steady = new RawGrpc(host.address('steady').slice('unix:'.length));
    let served = 0;
    const latencies: number[] = [];
    const until = performance.now() + 2_500;
    for (let i = 0; i < 2_000 && performance.now() < until; i++) {
      const started = performance.now();
      const read = await steady.call('ReadArtifact', grpcFrame(pb.bytes(1, 'small.txt')), 5_000);
      latencies.push(performance.now() - started);
      if (read.status === 0) served++;
    }
    const rssHeld = await host.memory();

    for (const session of sessions) session.destroy();
    await sleep(500);
    const afterwards = await new RawGrpc(socket).call('Hello', hello);
    const rssAfter = await host.memory();
    steady.close();
    latencies.sort((a, b) => a - b);
    const flooded = (await host.audit()).filter((e) => e.sandbox === 'flood' && e.target === 'big.bin');
    console.log(ratioLine('http2-held-streams', `the neighbour got ${served} of ${latencies.length} reads served while ${opened} streams were held open (${refused} refused by the stream cap)`, [
      `neighbour p50 ${latencies[Math.floor(latencies.length / 2)]?.toFixed(1)} ms, p99 ${latencies[Math.floor(latencies.length * 0.99)]?.toFixed(1)} ms`,
      `unread reads ended: ${JSON.stringify(countBy(flooded.map((e) => e.reason ?? 'ok')))}`,
      `host RSS before ${(rssBefore.rssKiB / 1024).toFixed(0)} MiB, holding ${(rssHeld.rssKiB / 1024).toFixed(0)} MiB, after ${(rssAfter.rssKiB / 1024).toFixed(0)} MiB, peak ${(rssAfter.hwmKiB / 1024).toFixed(0)} MiB`,
    ]));
    expect(served).toBe(latencies.length);
    expect(served).toBeGreaterThan(10);
    expect(afterwards.status).toBe(0);
    expect(host.alive).toBe(true);
    expect(rssHeld.rssKiB - rssBefore.rssKiB).toBeLessThan(200 * 1024);
  }, 40_000);
});

function countBy(values: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
