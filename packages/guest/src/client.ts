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
import { openServerStream } from './server-stream.js';
import { grpcTarget } from './transport.js';
import { SDK_VERSION } from './version.js';

export interface ConnectOptions {
  /** `unix:PATH` (or `vsock:CID:PORT`); omitted: $PORTHOLE_ADDRESS. */
  address?: string;
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
}

export interface StoredOutput {
  name: string;
  size: number;
  sha256: string;
  /** True when the host answered from an earlier write with the same key. */
  replayed: boolean;
}

// Host-to-guest streams carry most of the bytes; a larger window than
// HTTP/2's 64 KiB default keeps them from stalling on round trips.
const FLOW_CONTROL_WINDOW = 4 * 1024 * 1024;

/** A connection to the Porthole host, shared by every call made through it. */
export class Porthole {
  private readonly client: wire.PortholeClient;
  private helloResult: Promise<wire.HelloResponseOut> | undefined;

  constructor(options: ConnectOptions = {}) {
    const Client = portholeClientClass();
    this.client = new Client(grpcTarget(options.address), credentials(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc-node.flow_control_window': FLOW_CONTROL_WINDOW,
      'grpc.enable_channelz': 0,
    });
  }

  /** The host's handshake answer: sandbox id, enabled actions, limits. */
  hello(): Promise<wire.HelloResponseOut> {
    this.helloResult ??= new Promise<wire.HelloResponseOut>((resolve, reject) => {
      this.client.hello(
        { sdkVersion: SDK_VERSION, protocolMajor: PROTOCOL_MAJOR },
        (error, response) => (error || !response ? reject(PortholeError.from(error)) : resolve(response)),
      );
    });
    this.helloResult.catch(() => {
      this.helloResult = undefined;
    });
    return this.helloResult;
  }

  /** An HTTP exchange carried out by the host under its policy. */
  async fetch(url: string | URL, init: FetchInit = {}): Promise<PortholeResponse> {
    const headers = [...new Headers(init.headers).entries()].map(([name, value]) => ({ name, value }));
    const call = this.client.fetchUrl({
      method: (init.method ?? 'GET').toUpperCase(),
      url: String(url),
      headers,
      body: bodyBytes(init.body),
      timeoutMs: init.timeoutMs ?? 0,
    });
    const { head, rest } = await openServerStream(call, 'head', init.signal);
    const body = Readable.toWeb(Readable.from(rest(), { objectMode: false })) as ReadableStream<Uint8Array>;
    return new PortholeResponse(head as wire.FetchHead, body);
  }

  async listArtifacts(): Promise<ArtifactInfo[]> {
    const response = await new Promise<wire.ListArtifactsResponseOut>((resolve, reject) => {
      this.client.listArtifacts({}, (error, value) => (error || !value ? reject(PortholeError.from(error)) : resolve(value)));
    });
    return response.artifacts.map(({ name, size, modifiedMs }) => ({ name, size, modifiedMs }));
  }

  /** Streams a range of an artifact; resolves once the host has accepted the read. */
  async readArtifact(name: string, range: ReadRange = {}): Promise<ArtifactStream> {
    const request: { name: string; offset: number; length?: number } = { name, offset: range.offset ?? 0 };
    if (range.length !== undefined) request.length = range.length;
    const call = this.client.readArtifact(request);
    const { head, rest } = await openServerStream(call, 'head', range.signal);
    const stream = Readable.from(rest(), { objectMode: false, highWaterMark: 1024 * 1024 });
    return Object.assign(stream, { head: head as ArtifactHead });
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
    let call: grpc.ClientWritableStream<wire.WriteOutputRequest> | undefined;
    const reply = new Promise<wire.WriteOutputResponseOut>((resolve, reject) => {
      call = this.client.writeOutput((error, value) => (error || !value ? reject(PortholeError.from(error)) : resolve(value)));
    });
    const stream = call!;
    const abort = (): void => stream.cancel();
    options.signal?.addEventListener('abort', abort, { once: true });

    try {
      const head: wire.WriteOutputRequest['head'] = {
        name,
        contentType: options.contentType ?? '',
        idempotencyKey: options.idempotencyKey ?? randomUUID(),
      };
      if (options.expectedSize !== undefined) head.expectedSize = options.expectedSize;
      await send(stream, { head }, reply);
      for await (const chunk of toChunks(data)) await send(stream, { chunk }, reply);
      stream.end();
      const stored = await reply;
      return { name: stored.name, size: stored.size, sha256: stored.sha256, replayed: stored.replayed };
    } catch (error) {
      stream.cancel();
      // The host's answer explains a failed send better than the send does.
      throw await reply.then(() => PortholeError.from(error), (replyError: unknown) => replyError);
    } finally {
      options.signal?.removeEventListener('abort', abort);
    }
  }

  close(): void {
    this.client.close();
  }
}

/** Connects to the host. Calls wait for the socket; nothing is sent yet. */
export function connect(options: ConnectOptions = {}): Porthole {
  return new Porthole(options);
}

// The transport is a local socket owned by the VMM: there is no network
// path to protect, and identity comes from the socket, not a certificate.
function credentials(): grpc.ChannelCredentials {
  return grpc.credentials.createInsecure();
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

function bodyBytes(body: FetchInit['body']): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}
