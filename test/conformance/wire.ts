import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/**
 * The suite's own client for porthole.v1, built from the .proto at run time
 * with no Porthole code in between: it sees exactly what an implementation
 * puts on the wire, trailing metadata included.
 */

/** Trailing metadata keys of a refusal (see the proto's header comment). */
export const METADATA = {
  reason: 'porthole-reason',
  field: 'porthole-field',
  retryAfterMs: 'porthole-retry-after-ms',
  limit: 'porthole-limit',
} as const;

/** The gRPC status each reason travels with (proto/README.md, rule E2). */
export const REASON_STATUS: Readonly<Record<string, grpc.status>> = {
  POLICY_DENIED: grpc.status.PERMISSION_DENIED,
  RATE_LIMITED: grpc.status.RESOURCE_EXHAUSTED,
  QUOTA_EXCEEDED: grpc.status.RESOURCE_EXHAUSTED,
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  TOO_LARGE: grpc.status.RESOURCE_EXHAUSTED,
  UPSTREAM_ERROR: grpc.status.UNAVAILABLE,
  TIMEOUT: grpc.status.DEADLINE_EXCEEDED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
};

// Larger than any conforming message, so an oversized chunk is seen and
// reported by a check instead of failing inside the channel.
const MAX_RECEIVE_BYTES = 16 * 1024 * 1024;

/** A refusal as it arrived: status, details and the Porthole metadata. */
export interface WireError {
  code: grpc.status;
  details: string;
  /** Every value of each porthole-* key, to catch duplicates. */
  reasons: string[];
  field: string | undefined;
  limit: string | undefined;
  retryAfterMs: string | undefined;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** A message of a head-then-chunks stream, as proto-loader decodes it. */
export interface StreamPart<H> {
  part?: 'head' | 'chunk';
  head?: H | null;
  chunk?: Buffer;
}

// Decoding options: enums as names, 64-bit integers as numbers (every size
// the suite uses is far below 2^53), oneof members named in `part`.
const LOADER_OPTIONS = { longs: Number, enums: String, defaults: true, oneofs: true } as const;

/** Finds proto/porthole/v1/porthole.proto above this file (src or dist). */
export function findProto(start = dirname(fileURLToPath(import.meta.url))): string {
  let dir = start;
  for (let level = 0; level < 6; level++) {
    const candidate = join(dir, 'proto', 'porthole', 'v1', 'porthole.proto');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`proto/porthole/v1/porthole.proto not found above ${start}`);
}

type AnyClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** One channel to one endpoint address (unix:PATH). */
export class WireClient {
  readonly raw: AnyClient;

  constructor(readonly address: string, protoFile = findProto()) {
    const definition = grpc.loadPackageDefinition(loadSync(protoFile, LOADER_OPTIONS));
    const Service = (definition.porthole as grpc.GrpcObject).v1 as grpc.GrpcObject;
    const Client = Service.Porthole as grpc.ServiceClientConstructor;
    this.raw = new Client(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_RECEIVE_BYTES,
      'grpc.enable_channelz': 0,
      // Each WireClient is its own connection: isolation checks compare two.
      'grpc.use_local_subchannel_pool': 1,
    }) as AnyClient;
  }

  /** A unary call; settles within `deadlineMs` whatever the endpoint does. */
  unary<T>(method: string, request: object, options: { deadlineMs?: number; metadata?: grpc.Metadata } = {}): Promise<Outcome<T>> {
    const deadline = Date.now() + (options.deadlineMs ?? 15_000);
    return new Promise((resolve) => {
      const done = (error: grpc.ServiceError | null, value?: T): void => {
        resolve(error ? { ok: false, error: toWireError(error) } : { ok: true, value: value as T });
      };
      const fn = this.raw[method] as (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: typeof done) => void;
      fn.call(this.raw, request, options.metadata ?? new grpc.Metadata(), { deadline }, done);
    });
  }

  /** Starts a server-streaming call; read it with a StreamReader. */
  serverStream<H>(method: string, request: object, options: { deadlineMs?: number } = {}): StreamReader<H> {
    const callOptions: grpc.CallOptions = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
    const fn = this.raw[method] as (req: object, opts: grpc.CallOptions) => grpc.ClientReadableStream<StreamPart<H>>;
    return new StreamReader(fn.call(this.raw, request, callOptions));
  }

  /** Starts a client-streaming call; `reply` settles with its outcome. */
  clientStream<T>(method: string, options: { deadlineMs?: number } = {}): { call: grpc.ClientWritableStream<object>; reply: Promise<Outcome<T>> } {
    let call!: grpc.ClientWritableStream<object>;
    const deadline = Date.now() + (options.deadlineMs ?? 15_000);
    const reply = new Promise<Outcome<T>>((resolve) => {
      const fn = this.raw[method] as (opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v?: T) => void) => grpc.ClientWritableStream<object>;
      call = fn.call(this.raw, { deadline }, (error, value) => {
        resolve(error ? { ok: false, error: toWireError(error) } : { ok: true, value: value as T });
      });
    });
    return { call, reply };
  }

  close(): void {
    this.raw.close();
  }
}

/** What next() returns: a message, the end of the stream, or its error. */
export type Pulled<H> =
  | { kind: 'message'; message: StreamPart<H> }
  | { kind: 'end' }
  | { kind: 'error'; error: WireError };

/**
 * Reads a server stream one message at a time. Nothing is read until
 * next() is called, so a check that stops calling it is a reader that
 * reads nothing: grpc-js then stops granting HTTP/2 flow-control window.
 */
export class StreamReader<H> {
  private readonly iterator: AsyncIterator<StreamPart<H>>;
  private finished = false;

  constructor(readonly call: grpc.ClientReadableStream<StreamPart<H>>) {
    // Errors are taken from next(); this keeps an unread error from being
    // reported as unhandled.
    call.on('error', () => undefined);
    this.iterator = call[Symbol.asyncIterator]() as AsyncIterator<StreamPart<H>>;
  }

  /** The next message, or the end or error; `timeoutMs` bounds the wait. */
  async next(timeoutMs = 15_000): Promise<Pulled<H>> {
    if (this.finished) return { kind: 'end' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const result = await Promise.race([this.iterator.next(), timeout]);
      if (result === 'timeout') throw new Error(`no message, end or error within ${timeoutMs} ms`);
      if (result.done) {
        this.finished = true;
        return { kind: 'end' };
      }
      return { kind: 'message', message: result.value };
    } catch (error) {
      if (isServiceError(error)) {
        this.finished = true;
        return { kind: 'error', error: toWireError(error) };
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads to the end: every message, then the end or the error. */
  async drain(maxMessages = 100_000, timeoutMs = 15_000): Promise<{ messages: StreamPart<H>[]; error: WireError | undefined }> {
    const messages: StreamPart<H>[] = [];
    for (let count = 0; count < maxMessages; count++) {
      const pulled = await this.next(timeoutMs);
      if (pulled.kind === 'end') return { messages, error: undefined };
      if (pulled.kind === 'error') return { messages, error: pulled.error };
      messages.push(pulled.message);
    }
    throw new Error(`the stream sent more than ${maxMessages} messages`);
  }

  cancel(): void {
    this.call.cancel();
  }
}

function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && 'code' in error && 'metadata' in error;
}

/** Reads a grpc-js error into a WireError. */
export function toWireError(error: grpc.ServiceError): WireError {
  const metadata = error.metadata ?? new grpc.Metadata();
  const values = (key: string): string[] => metadata.get(key).map((v) => (typeof v === 'string' ? v : v.toString()));
  return {
    code: error.code,
    details: error.details ?? '',
    reasons: values(METADATA.reason),
    field: values(METADATA.field)[0],
    limit: values(METADATA.limit)[0],
    retryAfterMs: values(METADATA.retryAfterMs)[0],
  };
}

/** A readable one-line description of an outcome, for failure messages. */
export function describeError(error: WireError): string {
  const parts = [`status ${grpc.status[error.code] ?? error.code}`];
  parts.push(error.reasons.length ? `reason ${error.reasons.join('+')}` : 'no porthole-reason');
  if (error.field !== undefined) parts.push(`field ${error.field}`);
  if (error.limit !== undefined) parts.push(`limit ${error.limit}`);
  if (error.retryAfterMs !== undefined) parts.push(`retry-after-ms ${error.retryAfterMs}`);
  if (error.details) parts.push(JSON.stringify(error.details.slice(0, 160)));
  return parts.join(', ');
}
