import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

import * as grpc from '@grpc/grpc-js';
import {
  MAX_MESSAGE_BYTES,
  PortholeError,
  portholeClientClass,
  PROTOCOL_MAJOR,
  type wire,
} from '@porthole/shared';

import { toChunks, type OutputData } from './output-data.js';
import { PortholeResponse } from './response.js';
import { isConnectionLoss, RetryPolicy, type RetryOptions } from './retry.js';
import { openServerStream } from './server-stream.js';
import { openTransport, type Transport } from './transport.js';
import { SDK_VERSION } from './version.js';
import { valueKind } from './value-kind.js';
import { openWebBody } from './web-body.js';

export interface ConnectOptions {
  /**
   * `unix:PATH` or `vsock:CID:PORT`. Omitted: $PORTHOLE_ADDRESS, or inside
   * a VM with /dev/vsock and that variable unset, `vsock:2:52`.
   */
  address?: string;
  /**
   * Retries after a lost connection, of calls that are safe to repeat:
   * hello, listings, reads (resumed where they stopped), GET and HEAD
   * fetches whose response has not started, and writes of in-memory data
   * (same idempotency key, so one output is stored). Omitted: the defaults
   * of RetryOptions; `{ attempts: 1 }` turns retries off.
   */
  retry?: RetryOptions;
}

export interface FetchInit {
  /** Omitted: GET. */
  method?: string;
  headers?: ConstructorParameters<typeof Headers>[0];
  body?: string | Uint8Array | ArrayBuffer;
  signal?: AbortSignal;
  /** Shorter than the host's fetch timeout, or omitted for the host's. */
  timeoutMs?: number;
}

export interface ReadRange {
  /** First byte; omitted: 0. Equal to the size reads nothing. */
  offset?: number;
  /** Bytes to read; omitted: to the end. Cut at the end of the artifact. */
  length?: number;
  signal?: AbortSignal;
}

export interface ArtifactInfo {
  name: string;
  size: number;
  modifiedMs: number;
}

/** The head of a read: the whole artifact's size and hash, the range served. */
export interface ArtifactHead {
  name: string;
  size: number;
  sha256: string;
  offset: number;
  length: number;
}

/** Bytes of one artifact as a Node stream, with the head already received. */
export type ArtifactStream = Readable & { readonly head: ArtifactHead };

export interface WriteOptions {
  contentType?: string;
  /** Refuse the write unless exactly this many bytes are sent. */
  expectedSize?: number;
  /**
   * A retried write with the same key stores one output. Omitted: a fresh
   * key per call.
   */
  idempotencyKey?: string;
  signal?: AbortSignal;
  /**
   * Hash the content and have the host check it before storing. Omitted:
   * only the size is checked, which already proves the write was not cut
   * short; the reply's sha256 is the host's either way.
   */
  verifySha256?: boolean;
}

export interface StoredOutput {
  name: string;
  size: number;
  sha256: string;
  /** True when the host answered from an earlier write with the same key. */
  replayed: boolean;
}

// Bodies up to this size go without asking the host's limit first.
const SMALL_BODY_BYTES = 1024 * 1024;

// Host-to-guest streams carry most of the bytes; a larger window than
// HTTP/2's 64 KiB default keeps them from stalling on round trips.
const FLOW_CONTROL_WINDOW = 4 * 1024 * 1024;

/** A connection to the Porthole host, shared by every call made through it. */
export class Porthole {
  private readonly client: wire.PortholeClient;
  private readonly transport: Transport;
  private readonly retry: RetryPolicy;
  private helloResult: Promise<wire.HelloResponseOut> | undefined;

  /** `transport` replaces the address's own (tests, custom VMM sockets). */
  constructor(options: ConnectOptions = {}, transport?: Transport) {
    this.retry = new RetryPolicy(options.retry);
    this.transport = transport ?? openTransport(options.address);
    const Client = portholeClientClass();
    this.client = new Client(this.transport.target, this.transport.credentials, {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW,
      'grpc.enable_channelz': 0,
      // The channel's own reconnection follows the retry pace, so a retried
      // call finds a connection as soon as the host is back.
      'grpc.initial_reconnect_backoff_ms': Math.max(this.retry.baseDelayMs, 10),
      'grpc.max_reconnect_backoff_ms': Math.max(this.retry.maxDelayMs, 10),
    });
  }

  /**
   * The host's handshake answer: sandbox id, enabled actions, limits. The
   * first answer is kept for this connection's life; a host reload can
   * change the limits, so pass `{ refresh: true }` to ask again.
   */
  hello({ refresh = false }: { refresh?: boolean } = {}): Promise<wire.HelloResponseOut> {
    if (refresh) this.helloResult = undefined;
    this.helloResult ??= this.retry.run(() => new Promise<wire.HelloResponseOut>((resolve, reject) => {
      this.client.hello(
        { sdkVersion: SDK_VERSION, protocolMajor: PROTOCOL_MAJOR },
        (error, response) => (error || !response ? reject(PortholeError.from(error)) : resolve(response)),
      );
    }));
    this.helloResult.catch(() => {
      this.helloResult = undefined;
    });
    return this.helloResult;
  }

  /** An HTTP exchange carried out by the host under its policy. */
  async fetch(url: string | URL, init: FetchInit = {}): Promise<PortholeResponse> {
    const headers = headerList(init.headers);
    const request = {
      method: (init.method ?? 'GET').toUpperCase(),
      url: String(url),
      headers,
      body: bodyBytes(init.body),
      timeoutMs: init.timeoutMs ?? 0,
    };
    // A body past what one message may carry would be refused by gRPC itself
    // with a transport error; the host's own limit says more.
    if (request.body.length > SMALL_BODY_BYTES) {
      const limit = (await this.hello()).limits?.maxRequestBodyBytes ?? 0;
      if (request.body.length > limit) {
        throw new PortholeError('TOO_LARGE', `request body is ${request.body.length} bytes, the limit is ${limit}`, { field: 'body', limit });
      }
    }
    const start = () => openWebBody(this.client.fetchUrl(request), 'head', init.signal);
    // Only a GET or HEAD whose head has not arrived may be sent again: the
    // upstream may have acted on anything else.
    const safe = request.method === 'GET' || request.method === 'HEAD';
    const { head, body } = safe ? await this.retry.run(start, init.signal) : await start();
    return new PortholeResponse(head as wire.FetchHead, body);
  }

  async listArtifacts(): Promise<ArtifactInfo[]> {
    const response = await this.retry.run(() => new Promise<wire.ListArtifactsResponseOut>((resolve, reject) => {
      this.client.listArtifacts({}, (error, value) => (error || !value ? reject(PortholeError.from(error)) : resolve(value)));
    }));
    return response.artifacts.map(({ name, size, modifiedMs }) => ({ name, size, modifiedMs }));
  }

  /**
   * Streams a range of an artifact; resolves once the host has accepted the
   * read. A lost connection resumes the read at the byte reached, provided
   * the artifact's size and sha256 are unchanged.
   */
  async readArtifact(name: string, range: ReadRange = {}): Promise<ArtifactStream> {
    // The wire's fields are unsigned integers: protobuf would turn -5 or
    // 1.5 into some other range without a word.
    for (const field of ['offset', 'length'] as const) {
      const value: unknown = range[field];
      if (value !== undefined && !(typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)) {
        throw new PortholeError('INVALID_ARGUMENT', `${field} must be a whole number of bytes, 0 or more; got ${String(value)}`, { field });
      }
    }
    const open = (offset: number, length: number | undefined) => this.retry.run(() => {
      const request: { name: string; offset: number; length?: number } = { name, offset };
      if (length !== undefined) request.length = length;
      return openServerStream(this.client.readArtifact(request), 'head', range.signal);
    }, range.signal);
    const first = await open(range.offset ?? 0, range.length);
    const head = first.head as ArtifactHead;
    const attempts = this.retry.attempts;

    async function* resuming(): AsyncGenerator<Buffer> {
      let current = first;
      let delivered = 0;
      for (let resumes = 0; ; resumes++) {
        try {
          for await (const chunk of current.rest()) {
            delivered += chunk.length;
            yield chunk;
          }
          return;
        } catch (error) {
          if (!isConnectionLoss(error) || resumes + 1 >= attempts) throw PortholeError.from(error);
        }
        if (delivered >= head.length) return;
        current = await open(head.offset + delivered, head.length - delivered);
        const again = current.head as ArtifactHead;
        if (again.sha256 !== head.sha256 || again.size !== head.size) {
          current.rest().return(undefined).catch(() => undefined);
          throw new PortholeError('UNAVAILABLE', `${name} changed while it was read; the read cannot resume`);
        }
      }
    }

    const stream = Readable.from(resuming(), { objectMode: false, highWaterMark: 1024 * 1024 });
    return Object.assign(stream, { head });
  }

  /**
   * Reads a range into memory. A whole-artifact read is checked against the
   * host's sha256 and fails with UNAVAILABLE if it does not match.
   */
  async readArtifactBuffer(name: string, range: ReadRange = {}): Promise<Buffer> {
    const stream = await this.readArtifact(name, range);
    const parts: Buffer[] = [];
    const hash = createHash('sha256');
    for await (const part of stream as AsyncIterable<Buffer>) {
      parts.push(part);
      hash.update(part);
    }
    const data = Buffer.concat(parts);
    const { head } = stream;
    if (data.length !== head.length) {
      throw new PortholeError('UNAVAILABLE', `read ${data.length} bytes of ${name}, the host announced ${head.length}`);
    }
    if (head.offset === 0 && head.length === head.size && hash.digest('hex') !== head.sha256) {
      throw new PortholeError('UNAVAILABLE', `the bytes read of ${name} do not match its sha256`);
    }
    return data;
  }

  /**
   * Writes one output. Data may be a string, bytes, a Node stream or any
   * async iterable of bytes or strings. Resolves once the output is durable.
   */
  async writeOutput(name: string, data: OutputData, options: WriteOptions = {}): Promise<StoredOutput> {
    const key = options.idempotencyKey ?? randomUUID();
    // In-memory data can be sent again under the same key: the host stores
    // one output. A stream is read once, so its write is tried once.
    const replayable = typeof data === 'string' || data instanceof Uint8Array || data instanceof ArrayBuffer;
    if (!replayable) return this.writeOnce(name, data, options, key);
    return this.retry.run(() => this.writeOnce(name, data, options, key), options.signal);
  }

  private async writeOnce(name: string, data: OutputData, options: WriteOptions, key: string): Promise<StoredOutput> {
    let call: grpc.ClientWritableStream<wire.WriteOutputRequest> | undefined;
    const reply = new Promise<wire.WriteOutputResponseOut>((resolve, reject) => {
      call = this.client.writeOutput((error, value) => (error || !value ? reject(PortholeError.from(error)) : resolve(value)));
    });
    const stream = call!;
    // The host may answer (refuse) at any time, also while the data is
    // still being read; the answer is awaited below, never left unhandled.
    let answered = false;
    reply.then(() => (answered = true), () => (answered = true));
    const abort = (): void => stream.cancel();
    options.signal?.addEventListener('abort', abort, { once: true });

    try {
      const head: wire.WriteOutputRequest['head'] = {
        name,
        contentType: options.contentType ?? '',
        idempotencyKey: key,
      };
      if (options.expectedSize !== undefined) head.expectedSize = options.expectedSize;
      await send(stream, { head }, reply);
      const hash = options.verifySha256 ? createHash('sha256') : undefined;
      let size = 0;
      for await (const chunk of readSource(toChunks(data))) {
        if (answered) break;
        hash?.update(chunk);
        size += chunk.length;
        await send(stream, { chunk }, reply);
      }
      if (answered) return toStored(await reply);
      // Only after this does the host store anything: a write cut short,
      // however it ends, leaves nothing behind.
      await send(stream, { end: { size, sha256: hash?.digest('hex') ?? '' } }, reply);
      stream.end();
      return toStored(await reply);
    } catch (error) {
      stream.cancel();
      if (error instanceof SourceError) {
        throw new PortholeError('INVALID_ARGUMENT', `the data to write could not be read: ${error.message}`, { field: 'data', cause: error.cause });
      }
      // The host's answer explains a failed send better than the send does.
      throw await reply.then(() => PortholeError.from(error), (replyError: unknown) => replyError);
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  }

  close(): void {
    this.client.close();
    this.transport.close();
  }
}

/** Connects to the host. Calls wait for the socket; nothing is sent yet. */
export function connect(options: ConnectOptions = {}): Porthole {
  return new Porthole(options);
}

function toStored(reply: wire.WriteOutputResponseOut): StoredOutput {
  return { name: reply.name, size: reply.size, sha256: reply.sha256, replayed: reply.replayed };
}

/** A failure reading the guest's own data, not the host's doing. */
class SourceError extends Error {}

async function* readSource(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const iterator = chunks[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Buffer>;
    try {
      next = await iterator.next();
    } catch (error) {
      throw new SourceError((error as Error).message, { cause: error });
    }
    if (next.done) return;
    yield next.value;
  }
}

/** Writes one message, waiting for drain, and stops if the host already answered. */
async function send(
  stream: grpc.ClientWritableStream<wire.WriteOutputRequest>,
  message: wire.WriteOutputRequest,
  reply: Promise<unknown>,
): Promise<void> {
  if (stream.write(message)) return;
  await Promise.race([
    new Promise<void>((resolve) => stream.once('drain', resolve)),
    reply.then(() => {
      throw new PortholeError('UNAVAILABLE', 'the host answered before the output was sent');
    }),
  ]);
}

// Mistakes in what the caller passed are theirs to fix, not a host that
// is away: INVALID_ARGUMENT naming the field, as the host would answer,
// never a bare TypeError that reads as UNAVAILABLE and gets retried.
function headerList(init: FetchInit['headers']): { name: string; value: string }[] {
  if (init === undefined) return [];
  try {
    return [...new Headers(init).entries()].map(([name, value]) => ({ name, value }));
  } catch (error) {
    throw new PortholeError('INVALID_ARGUMENT', `headers: ${(error as Error).message}`, { field: 'headers' });
  }
}

function bodyBytes(body: FetchInit['body']): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new PortholeError('INVALID_ARGUMENT', `body is ${valueKind(body)}; a fetch body is a string, a Uint8Array or an ArrayBuffer`, { field: 'body' });
}
