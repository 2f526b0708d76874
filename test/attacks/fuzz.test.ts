import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HostProcess, processSandbox } from '../support/host-process.js';
import { grpcFrame, pb, RawGrpc, type RawOutcome } from '../support/raw-grpc.js';
import { Upstream } from '../support/upstream.js';
import { LONG, ratioLine } from './figures.js';

// Random and mutated messages for every method, sent as raw bytes over
// HTTP/2 to a host in its own process. The host must stay up, answer
// every call with a status (each call has a deadline), refuse malformed
// input with a typed error, and keep its memory bounded.

const RUNS_PER_METHOD = LONG ? 2_000 : 80;
const CALL_DEADLINE_MS = 5_000;
const RSS_GROWTH_BOUND_MIB = 150;

const OK = 0;
// What grpc-js itself answers for bytes it cannot take as a message:
// INTERNAL (undecodable, no message for a unary call), RESOURCE_EXHAUSTED
// (over the size limit), UNIMPLEMENTED (compressed with no encoding).
const GRPC_JS_STATUSES = new Set([13, 8, 12]);

type Method = 'Hello' | 'ListArtifacts' | 'ReadArtifact' | 'FetchUrl' | 'WriteOutput';
const METHODS: Method[] = ['Hello', 'ListArtifacts', 'ReadArtifact', 'FetchUrl', 'WriteOutput'];

type Mutation = { op: 'flip' | 'set' | 'insert' | 'delete' | 'truncate'; at: number; byte: number };

function mutate(message: Buffer, mutations: Mutation[]): Buffer {
  let bytes = Buffer.from(message);
  for (const { op, at, byte } of mutations) {
    const i = bytes.length === 0 ? 0 : at % bytes.length;
    if (op === 'flip' && bytes.length > 0) bytes[i] = bytes[i]! ^ (1 << (byte % 8));
    else if (op === 'set' && bytes.length > 0) bytes[i] = byte;
    else if (op === 'insert') bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
    else if (op === 'delete') bytes = Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + 1)]);
    else if (op === 'truncate') bytes = bytes.subarray(0, i);
  }
  return bytes;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('flip', 'set', 'insert', 'delete', 'truncate'),
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
});

describe('ATTACK fuzz: random and mutated messages for every action', () => {
  let api: Upstream;
  let host: HostProcess;
  let raw: RawGrpc;
  let seeds: Record<Method, Buffer[][]>;

  beforeAll(async () => {
    api = await new Upstream({ '/f': (_req, res) => res.end('ok') }).listen();
    host = await HostProcess.start([
      processSandbox('fuzz', {
        fetch: { allow: [{ scheme: 'http', host: '127.0.0.1', port: api.port, methods: ['GET', 'POST', 'PUT'] }], timeoutMs: 2_000 },
        limits: { requestsPerSecond: 100_000, burst: 100_000, maxConcurrent: 64 },
      }),
    ], {
      prepare: async (dir) => writeFile(join(dir, 'fuzz/artifacts/a.txt'), 'artifact bytes'),
    });
    raw = new RawGrpc(host.address('fuzz').slice('unix:'.length));
    const outputHead = pb.bytes(1, Buffer.concat([pb.bytes(1, 'out.bin'), pb.uint(2, 5), pb.bytes(4, 'key')]));
    seeds = {
      Hello: [[Buffer.concat([pb.bytes(1, 'fuzz/1.0'), pb.uint(2, 1)])]],
      ListArtifacts: [[Buffer.alloc(0)]],
      ReadArtifact: [[Buffer.concat([pb.bytes(1, 'a.txt'), pb.uint(2, 2), pb.uint(3, 4)])]],
      FetchUrl: [
        [Buffer.concat([pb.bytes(1, 'GET'), pb.bytes(2, `${api.origin}/f?q=1`), pb.bytes(3, Buffer.concat([pb.bytes(1, 'x-a'), pb.bytes(2, 'b')])), pb.uint(5, 1_000)])],
        [Buffer.concat([pb.bytes(1, 'POST'), pb.bytes(2, `${api.origin}/f`), pb.bytes(4, 'body')])],
      ],
      WriteOutput: [[outputHead, pb.bytes(2, 'hello'), pb.bytes(3, pb.uint(1, 5))]],
    };
  });

  afterAll(async () => {
    raw?.close();
    await host?.stop();
    await api?.close();
  });

  it('answers every malformed call with a status, stays up and keeps its memory bounded', async () => {
    const seen = new Map<string, number>();
    const grpcJs = new Map<string, number>();
    const problems: string[] = [];
    const rssBefore = await host.memory();
    let calls = 0;

    for (const method of METHODS) {
      // A body is a list of framed messages, mutated seeds or random bytes,
      // or raw bytes with no framing at all.
      const body: fc.Arbitrary<Buffer> = fc.oneof(
        fc.tuple(fc.constantFrom(...seeds[method]), fc.array(mutationArb, { minLength: 1, maxLength: 6 }), fc.nat())
          .map(([messages, mutations, which]) => Buffer.concat(messages.map((m, i) => grpcFrame(i === which % messages.length ? mutate(m, mutations) : m)))),
        fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 }).map((messages) => Buffer.concat(messages.map((m) => grpcFrame(m)))),
        fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
      );
      await fc.assert(fc.asyncProperty(body, async (bytes) => {
        const outcome: RawOutcome = await raw.call(method, bytes, CALL_DEADLINE_MS);
        calls++;
        const key = `${method} ${outcome.status ?? 'none'}${outcome.reason ? ` ${outcome.reason}` : ''}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
        if (outcome.timedOut || outcome.status === undefined) problems.push(`${method} got no status for ${bytes.toString('hex').slice(0, 120)}`);
        else if (outcome.status !== OK && !outcome.reason) {
          // Refused by grpc-js before any handler ran: its own status.
          const text = (outcome.message ?? '').replace(/\/porthole\.v1\.Porthole\/\w+/, 'M').replace(/\d+/g, 'N');
          const transport = `${outcome.status} ${text}`;
          grpcJs.set(transport, (grpcJs.get(transport) ?? 0) + 1);
          if (!GRPC_JS_STATUSES.has(outcome.status)) problems.push(`${method} status ${outcome.status} without porthole-reason: ${outcome.message}`);
        } else if (outcome.message?.includes('failed inside the host')) {
          problems.push(`${method} host fault for ${bytes.toString('hex').slice(0, 120)}`);
        }
        if (problems.length > 0) throw new Error(problems.join(" | "));
        return true;
      }), { numRuns: RUNS_PER_METHOD, seed: LONG ? Date.now() : 20_240_601, endOnFailure: true });
    }

    const hello = await raw.call('Hello', grpcFrame(Buffer.concat([pb.bytes(1, 'after'), pb.uint(2, 1)])));
    const rssAfter = await host.memory();
    const statuses = [...seen].sort().map(([k, n]) => `${k} x${n}`).join(', ');
    console.log(ratioLine('fuzz', `${calls} random and mutated calls over ${METHODS.length} methods, every one answered with a status; host up, RSS ${(rssBefore.rssKiB / 1024).toFixed(0)} -> ${(rssAfter.rssKiB / 1024).toFixed(0)} MiB`, [
      `statuses seen (gRPC code and porthole-reason): ${statuses}`,
      `grpc-js's own refusals: ${[...grpcJs].sort().map(([k, n]) => `${k} x${n}`).join(', ')}`,
      `peak RSS ${(rssAfter.hwmKiB / 1024).toFixed(0)} MiB; problems: ${problems.length === 0 ? 'none' : problems.join(' | ')}`,
    ]));
    expect(problems).toEqual([]);
    expect(hello).toMatchObject({ status: OK, timedOut: false });
    expect(host.alive).toBe(true);
    expect(rssAfter.rssKiB - rssBefore.rssKiB).toBeLessThan(RSS_GROWTH_BOUND_MIB * 1024);
  }, 120_000);
});
