import {
  MAX_CHUNK_BYTES,
  PortholeError,
  PROTOCOL_MAJOR,
  PROTOCOL_VERSION,
  type wire,
} from '@porthole/shared';

import type { Sandbox } from '../sandbox/sandbox.js';
import { HOST_VERSION } from '../version.js';

// A sandbox's answer only changes with its policy, and a reload makes a
// new Sandbox: each is built once.
const answers = new WeakMap<Sandbox, wire.HelloResponse>();

// The wire encoding of each answer once sent. Answers are frozen when
// built, so an encoding never goes stale; without it grpc-js would convert
// and encode the same answer on every call.
const encodings = new WeakMap<object, Buffer>();

type Encode = (answer: wire.HelloResponse) => Buffer;

/** `service` with each Hello answer encoded once, not on every call. */
export function withHelloEncodedOnce<S extends { Hello: { responseSerialize: Encode } }>(service: S): S {
  const encode = service.Hello.responseSerialize;
  const encodeOnce: Encode = (answer) => {
    const known = encodings.get(answer);
    if (known) return known;
    const bytes = encode(answer);
    // Only a frozen answer cannot change under its encoding.
    if (!Object.isFrozen(answer)) return bytes;
    // A small Buffer is a slice of a shared 8 KiB pool, which the cache
    // would keep alive for as long as the sandbox's policy: keep a copy
    // with its own memory instead.
    const kept = Buffer.allocUnsafeSlow(bytes.length);
    bytes.copy(kept);
    encodings.set(answer, kept);
    return kept;
  };
  return { ...service, Hello: { ...service.Hello, responseSerialize: encodeOnce } };
}

/** Answers the handshake: who the host sees, what it allows, which bounds hold. */
export function hello(sandbox: Sandbox, request: wire.HelloRequest): wire.HelloResponse {
  const major = request.protocolMajor === 0 ? PROTOCOL_MAJOR : request.protocolMajor;
  if (major !== PROTOCOL_MAJOR) {
    throw new PortholeError('INVALID_ARGUMENT', `protocol major version ${major} is not served; this host speaks ${PROTOCOL_MAJOR}`, { field: 'protocol_major' });
  }
  let answer = answers.get(sandbox);
  if (!answer) {
    answer = freeze(describe(sandbox));
    answers.set(sandbox, answer);
  }
  return answer;
}

function freeze(answer: wire.HelloResponse): wire.HelloResponse {
  Object.freeze(answer.actions);
  Object.freeze(answer.limits);
  return Object.freeze(answer);
}

function describe(sandbox: Sandbox): wire.HelloResponse {
  const { config } = sandbox;
  const actions: wire.Action[] = [];
  if (config.fetch) actions.push('FETCH_URL');
  if (config.artifacts !== undefined) actions.push('LIST_ARTIFACTS', 'READ_ARTIFACT');
  if (config.outputs) actions.push('WRITE_OUTPUT');

  return {
    protocolVersion: PROTOCOL_VERSION,
    sandboxId: sandbox.id,
    hostVersion: HOST_VERSION,
    actions,
    limits: {
      maxRequestBodyBytes: config.fetch?.maxRequestBodyBytes ?? 0,
      maxResponseBodyBytes: config.fetch?.maxResponseBytes ?? 0,
      chunkBytes: MAX_CHUNK_BYTES,
      outputQuotaBytes: config.outputs?.maxBytes ?? 0,
      outputQuotaFiles: config.outputs?.maxFiles ?? 0,
      outputMaxFileBytes: config.outputs?.maxFileBytes ?? 0,
      requestsPerSecond: config.limits.requestsPerSecond,
      requestBurst: config.limits.burst,
      maxConcurrentCalls: config.limits.maxConcurrent,
      bytesPerSecond: config.limits.bytesPerSecond,
      fetchTimeoutMs: config.fetch?.timeoutMs ?? 0,
      maxRedirects: config.fetch?.maxRedirects ?? 0,
    },
  };
}
