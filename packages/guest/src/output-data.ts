import { MAX_CHUNK_BYTES } from '@porthole/shared';

import { valueKind } from './value-kind.js';

/** What `writeOutput` accepts: a whole value or a stream of parts. */
export type OutputData =
  | string
  | Uint8Array
  | ArrayBuffer
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>;

/** Cuts any OutputData into wire chunks of at most MAX_CHUNK_BYTES. */
export async function* toChunks(data: OutputData): AsyncGenerator<Buffer> {
  for await (const part of parts(data)) {
    const bytes = typeof part === 'string' ? Buffer.from(part) : Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    for (let at = 0; at < bytes.length; at += MAX_CHUNK_BYTES) {
      yield bytes.subarray(at, at + MAX_CHUNK_BYTES);
    }
  }
}

function parts(data: OutputData): AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string> {
  if (typeof data === 'string' || data instanceof Uint8Array) return [data];
  if (data instanceof ArrayBuffer) return [new Uint8Array(data)];
  if (isIterable(data)) return data;
  throw new TypeError(`it is ${valueKind(data)}; output data is a string, a Uint8Array, an ArrayBuffer, or an iterable or async iterable of strings and Uint8Arrays`);
}

function isIterable(data: unknown): data is AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string> {
  if (data === null || typeof data !== 'object') return false;
  return typeof (data as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' || typeof (data as Iterable<unknown>)[Symbol.iterator] === 'function';
}
