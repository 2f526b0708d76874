import * as grpc from '@grpc/grpc-js';

import { expect, expectEqual, ok, refused, type Check, type CheckContext, type Endpoint } from '../check.js';
import { MAX_CHUNK_BYTES } from '../streams.js';

/** Hello's answer as the suite decodes it. */
export interface HelloAnswer {
  protocolVersion: string;
  sandboxId: string;
  actions: string[];
  hostVersion: string;
  limits: Record<string, number>;
}

export function hello(endpoint: Endpoint, protocolMajor = 1, metadata?: grpc.Metadata) {
  return endpoint.client.unary<HelloAnswer>('hello', { sdkVersion: 'conformance', protocolMajor }, metadata ? { metadata } : {});
}

/** The actions a sandbox's policy enables, in the proto's order. */
function enabledActions(endpoint: Endpoint): string[] {
  return ['FETCH_URL', 'LIST_ARTIFACTS', 'READ_ARTIFACT', ...(endpoint.policy.outputs ? ['WRITE_OUTPUT'] : [])];
}

function expectedLimits(endpoint: Endpoint): Record<string, number> {
  const { fetch, outputs, limits } = endpoint.policy;
  return {
    maxRequestBodyBytes: fetch.maxRequestBodyBytes,
    maxResponseBodyBytes: fetch.maxResponseBytes,
    outputQuotaBytes: outputs?.maxBytes ?? 0,
    outputQuotaFiles: outputs?.maxFiles ?? 0,
    outputMaxFileBytes: outputs?.maxFileBytes ?? 0,
    requestsPerSecond: limits.requestsPerSecond,
    requestBurst: limits.burst,
    maxConcurrentCalls: limits.maxConcurrent,
    bytesPerSecond: limits.bytesPerSecond,
    fetchTimeoutMs: fetch.timeoutMs,
    maxRedirects: fetch.maxRedirects,
  };
}

async function helloChecks(endpoint: Endpoint): Promise<void> {
  const answer = ok(await hello(endpoint), 'Hello with protocol_major 1');
  expect(/^1\.\d+$/.test(answer.protocolVersion), `protocol_version must be "1.<minor>", got ${JSON.stringify(answer.protocolVersion)}`);
  expectEqual(answer.sandboxId, endpoint.policy.id, `sandbox_id on ${endpoint.address}`);
  expect(answer.hostVersion.length > 0, 'host_version is empty');
}

export const handshakeChecks: Check[] = [
  {
    id: 'handshake.hello',
    group: 'handshake',
    title: 'Hello with major 1 answers version 1.x, the sandbox id and a host version',
    rules: ['H1', 'H4'],
    run: (ctx) => helloChecks(ctx.main),
  },
  {
    id: 'handshake.major-zero-means-one',
    group: 'handshake',
    title: 'protocol_major 0 is read as 1',
    rules: ['H2'],
    async run(ctx) {
      const answer = ok(await hello(ctx.main, 0), 'Hello with protocol_major 0');
      expect(answer.protocolVersion.startsWith('1.'), `protocol_version ${answer.protocolVersion} for major 0`);
    },
  },
  ...[2, 4096].map((major): Check => ({
    id: `handshake.unknown-major-${major}-refused`,
    group: 'handshake',
    title: `protocol_major ${major} is refused with INVALID_ARGUMENT on protocol_major`,
    rules: ['H3'],
    async run(ctx) {
      refused(await hello(ctx.main, major), { reason: 'INVALID_ARGUMENT', field: 'protocol_major' }, `Hello with protocol_major ${major}`);
    },
  })),
  {
    id: 'handshake.actions',
    group: 'handshake',
    title: 'Hello lists exactly the actions the policy enables',
    rules: ['H5'],
    async run(ctx) {
      for (const endpoint of [ctx.main, ctx.other]) {
        if (!endpoint) continue;
        const answer = ok(await hello(endpoint), `Hello on ${endpoint.policy.id}`);
        expectEqual([...answer.actions].sort(), enabledActions(endpoint).sort(), `actions of ${endpoint.policy.id}`);
      }
    },
  },
  {
    id: 'handshake.limits',
    group: 'handshake',
    title: 'Hello reports the policy\'s limits, 0 for what is not enabled, chunk_bytes in 1..65536',
    rules: ['H6', 'S2'],
    async run(ctx) {
      for (const endpoint of [ctx.main, ctx.other]) {
        if (!endpoint) continue;
        const { limits } = ok(await hello(endpoint), `Hello on ${endpoint.policy.id}`);
        const chunk = limits.chunkBytes ?? 0;
        expect(chunk > 0 && chunk <= MAX_CHUNK_BYTES, `${endpoint.policy.id}: chunk_bytes ${chunk} is not in 1..65536`);
        const { chunkBytes: _ignored, ...rest } = limits;
        expectEqual(rest, expectedLimits(endpoint), `${endpoint.policy.id}: limits`);
      }
    },
  },
];

export async function chunkBytesOf(ctx: CheckContext): Promise<number> {
  return ok(await hello(ctx.main), 'Hello').limits.chunkBytes ?? 0;
}
