import { unlink } from 'node:fs/promises';

import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

import { findProto, METADATA, WireClient } from './wire.js';

/**
 * A deliberately broken endpoint for the suite's own test: a proxy in front
 * of a real host that forwards every call faithfully except for four faults,
 * each breaking one rule of proto/README.md:
 *
 * - Hello accepts any protocol_major (rule H3);
 * - ReadArtifact merges chunks into messages of up to 128 KiB (rule S2);
 * - NOT_FOUND refusals lose their porthole-reason (rule E1);
 * - FetchUrl reads the upstream as fast as it can, buffering whatever the
 *   guest has not read (rule B2).
 */
export const BROKEN_RULES = ['H3', 'S2', 'E1', 'B2'] as const;

const MERGED_CHUNK_BYTES = 128 * 1024;

type Unary = (call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => void;

export class BrokenProxy {
  private readonly server = new grpc.Server();
  private readonly upstream: WireClient;

  constructor(upstreamAddress: string, readonly path: string) {
    this.upstream = new WireClient(upstreamAddress);
    const definition = grpc.loadPackageDefinition(loadSync(findProto(), { longs: Number, enums: String, defaults: true, oneofs: true }));
    const service = ((definition.porthole as grpc.GrpcObject).v1 as grpc.GrpcObject).Porthole as grpc.ServiceClientConstructor;
    const raw = this.upstream.raw;

    const unary = (method: string, rewrite: (request: Record<string, unknown>) => object = (r) => r): Unary => (call, callback) => {
      const fn = raw[method] as (req: object, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v?: object) => void) => grpc.ClientUnaryCall;
      const upstreamCall = fn.call(raw, rewrite(call.request as Record<string, unknown>), {}, (error, value) => callback(error ? degrade(error) : null, value));
      call.on('cancelled', () => upstreamCall.cancel());
    };

    const readArtifact = (call: grpc.ServerWritableStream<object, object>): void => {
      const upstreamCall = (raw.readArtifact as (req: object) => grpc.ClientReadableStream<{ part?: string; chunk?: Buffer }>).call(raw, call.request);
      call.on('cancelled', () => upstreamCall.cancel());
      void (async () => {
        let pending: Buffer[] = [];
        let size = 0;
        const flush = async (): Promise<void> => {
          if (size === 0) return;
          const chunk = Buffer.concat(pending);
          pending = [];
          size = 0;
          if (!call.write({ chunk })) await new Promise((resolve) => call.once('drain', resolve));
        };
        try {
          for await (const message of upstreamCall) {
            if (message.part !== 'chunk' || !message.chunk) {
              if (!call.write(message)) await new Promise((resolve) => call.once('drain', resolve));
              continue;
            }
            pending.push(message.chunk);
            size += message.chunk.length;
            if (size >= MERGED_CHUNK_BYTES) await flush();
          }
          await flush();
          call.end();
        } catch (error) {
          call.emit('error', degrade(error as grpc.ServiceError));
        }
      })();
    };

    const fetchUrl = (call: grpc.ServerWritableStream<object, object>): void => {
      const upstreamCall = (raw.fetchUrl as (req: object) => grpc.ClientReadableStream<object>).call(raw, call.request);
      call.on('cancelled', () => upstreamCall.cancel());
      // The fault: every message is taken at once and queued in memory.
      upstreamCall.on('data', (message: object) => call.write(message));
      upstreamCall.on('end', () => call.end());
      upstreamCall.on('error', (error: grpc.ServiceError) => call.emit('error', degrade(error)));
    };

    const writeOutput = (call: grpc.ServerReadableStream<object, object>, callback: grpc.sendUnaryData<object>): void => {
      const upstreamCall = (raw.writeOutput as (cb: (e: grpc.ServiceError | null, v?: object) => void) => grpc.ClientWritableStream<object>)
        .call(raw, (error, value) => callback(error ? degrade(error) : null, value));
      call.on('data', (message: object) => upstreamCall.write(message));
      call.on('end', () => upstreamCall.end());
      call.on('cancelled', () => upstreamCall.cancel());
    };

    this.server.addService(service.service, {
      hello: unary('hello', (r) => ({ ...r, protocolMajor: 1 })),
      listArtifacts: unary('listArtifacts'),
      readArtifact,
      fetchUrl,
      writeOutput,
    } as grpc.UntypedServiceImplementation);
  }

  get address(): string {
    return `unix:${this.path}`;
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.bindAsync(this.address, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve()));
    });
    return this;
  }

  async close(): Promise<void> {
    this.server.forceShutdown();
    this.upstream.close();
    await unlink(this.path).catch(() => undefined);
  }
}

/** Passes an error on, except that NOT_FOUND loses its porthole-reason. */
function degrade(error: grpc.ServiceError): Partial<grpc.ServiceError> {
  const metadata = error.metadata?.clone() ?? new grpc.Metadata();
  if (metadata.get(METADATA.reason)[0] === 'NOT_FOUND') metadata.remove(METADATA.reason);
  return { code: error.code, details: error.details, metadata };
}
