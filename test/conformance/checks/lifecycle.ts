import * as grpc from '@grpc/grpc-js';

import { expect, fail, sleep, waitFor, type Check, type CheckContext } from '../check.js';
import { FLOOD_BYTES } from '../upstream.js';
import { expectUpstreamClosed, fetchUrl, mainUrl } from './fetch.js';
import { hello } from './handshake.js';
import { readArtifact } from './artifacts.js';

/**
 * What a host may hold of a stream its guest does not read: kernel socket
 * buffers on both sides, HTTP/2 windows and a few messages. Far below
 * FLOOD_BYTES, far above what any bounded host needs.
 */
export const BACKPRESSURE_BOUND = 64 * 1024 * 1024;

// Quiet time after which a stalled upstream is taken as "the host stopped
// pulling". A loaded machine can only make a correct host look stalled
// earlier, never make it fail.
const STALL_MS = 1000;

/** Starts a fetch of a route that never answers and waits until the upstream has it. */
export async function heldFetch(ctx: CheckContext, what: string): Promise<{ token: string; cancel: () => void }> {
  const token = ctx.token();
  const reader = fetchUrl(ctx.main, { url: mainUrl(ctx, `hang/${token}`) });
  ctx.defer(() => reader.cancel());
  const observed = ctx.upstream.observe(token);
  if (!(await waitFor(() => observed.arrived, 10_000))) fail(`${what}: the held fetch never reached the upstream`);
  return { token, cancel: () => reader.cancel() };
}

/** Opens a read of large.bin, takes its head and then reads nothing. */
async function heldRead(ctx: CheckContext, what: string): Promise<() => void> {
  const reader = readArtifact(ctx.main, 'large.bin');
  ctx.defer(() => reader.cancel());
  const first = await reader.next(10_000);
  if (first.kind !== 'message' || first.message.part !== 'head') fail(`${what}: the read of large.bin did not start with a head`);
  return () => reader.cancel();
}

/** True when the main sandbox refuses a call for concurrency right now. */
async function atConcurrencyLimit(ctx: CheckContext): Promise<boolean> {
  const outcome = await hello(ctx.main);
  return !outcome.ok && outcome.error.reasons[0] === 'RATE_LIMITED' && outcome.error.limit === String(ctx.main.policy.limits.maxConcurrent);
}

/** Fills every concurrency slot but one with held fetches. */
async function holdAllButOne(ctx: CheckContext, what: string): Promise<void> {
  for (let i = 0; i < ctx.main.policy.limits.maxConcurrent - 1; i++) await heldFetch(ctx, what);
}

export const lifecycleChecks: Check[] = [
  {
    id: 'lifecycle.deadline-stops-upstream',
    group: 'deadlines and cancellation',
    title: 'a gRPC deadline that passes during a fetch ends the call and closes the upstream request',
    rules: ['C1', 'C2'],
    async run(ctx) {
      const token = ctx.token();
      const reader = fetchUrl(ctx.main, { url: mainUrl(ctx, `hang/${token}`) }, 500);
      ctx.defer(() => reader.cancel());
      const pulled = await reader.next(10_000);
      expect(pulled.kind === 'error' && pulled.error.code === grpc.status.DEADLINE_EXCEEDED, `expected DEADLINE_EXCEEDED after 500 ms, got ${pulled.kind === 'error' ? grpc.status[pulled.error.code] : pulled.kind}`);
      await expectUpstreamClosed(ctx, token, 'after the deadline');
    },
  },
  {
    id: 'lifecycle.cancel-fetch-before-head',
    group: 'deadlines and cancellation',
    title: 'a fetch cancelled while the upstream has not answered closes the upstream request',
    rules: ['C2'],
    async run(ctx) {
      const held = await heldFetch(ctx, 'cancel before head');
      held.cancel();
      await expectUpstreamClosed(ctx, held.token, 'after the cancel');
    },
  },
  {
    id: 'lifecycle.cancel-fetch-mid-body',
    group: 'deadlines and cancellation',
    title: 'a fetch cancelled mid-body closes the upstream request',
    rules: ['C2'],
    async run(ctx) {
      const token = ctx.token();
      const reader = fetchUrl(ctx.main, { url: mainUrl(ctx, `drip/${token}`) });
      ctx.defer(() => reader.cancel());
      const head = await reader.next(10_000);
      expect(head.kind === 'message' && head.message.part === 'head', 'the drip fetch did not start with a head');
      const chunk = await reader.next(10_000);
      expect(chunk.kind === 'message' && chunk.message.part === 'chunk', 'the first body byte was not relayed');
      reader.cancel();
      await expectUpstreamClosed(ctx, token, 'after the cancel');
    },
  },
  {
    id: 'lifecycle.cancel-read-releases-slot',
    group: 'deadlines and cancellation',
    title: 'a read cancelled mid-stream ends on the host: its concurrency slot is free again',
    rules: ['C3', 'L1'],
    async run(ctx) {
      await holdAllButOne(ctx, 'cancel read');
      const cancelRead = await heldRead(ctx, 'cancel read');
      expect(await atConcurrencyLimit(ctx), 'precondition: with every slot held, a call was not refused for concurrency');
      cancelRead();
      const freed = await waitFor(async () => !(await atConcurrencyLimit(ctx)), 10_000);
      expect(freed, 'the cancelled read still held its concurrency slot 10 s later');
    },
  },
  {
    id: 'lifecycle.slow-reader-read',
    group: 'backpressure',
    title: 'a read whose guest reads nothing stays in progress instead of being buffered out',
    rules: ['B1'],
    async run(ctx) {
      await holdAllButOne(ctx, 'slow reader');
      await heldRead(ctx, 'slow reader');
      await sleep(STALL_MS);
      expect(await atConcurrencyLimit(ctx), 'the 16 MiB read finished while its guest read nothing: the host buffered it instead of waiting for the reader');
    },
  },
  {
    id: 'lifecycle.slow-reader-fetch',
    group: 'backpressure',
    title: 'a fetch whose guest reads nothing stops pulling from the upstream (bounded buffering)',
    rules: ['B1', 'B2', 'C2'],
    timeoutMs: 60_000,
    async run(ctx) {
      const token = ctx.token();
      const reader = fetchUrl(ctx.main, { url: mainUrl(ctx, `flood/${token}`) });
      ctx.defer(() => reader.cancel());
      const head = await reader.next(10_000);
      expect(head.kind === 'message' && head.message.part === 'head', 'the flood fetch did not start with a head');

      const observed = ctx.upstream.observe(token);
      let last = -1;
      let since = Date.now();
      const deadline = Date.now() + 30_000;
      for (let polls = 0; polls < 1000 && Date.now() < deadline; polls++) {
        if (observed.finished || observed.sent > BACKPRESSURE_BOUND) {
          fail(`the host took ${observed.sent} bytes from the upstream while its guest read nothing (bound ${BACKPRESSURE_BOUND})`);
        }
        if (observed.sent !== last) {
          last = observed.sent;
          since = Date.now();
        } else if (observed.stalled && Date.now() - since >= STALL_MS) {
          reader.cancel();
          await expectUpstreamClosed(ctx, token, 'after cancelling the stalled fetch');
          return;
        }
        await sleep(50);
      }
      fail(`the upstream never stalled within 30 s (${observed.sent} of ${FLOOD_BYTES} bytes taken)`);
    },
  },
];
