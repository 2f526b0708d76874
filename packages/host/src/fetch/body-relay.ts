import { pipeline } from 'node:stream/promises';
import { Readable, Transform, Writable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

import { MAX_CHUNK_BYTES, PortholeError } from '@porthole/shared';

import type { Redactor } from './redactor.js';

export interface BodyLimits {
  /** Decoded bytes the guest may receive. */
  maxBytes: number;
  /** Decoded bytes per encoded byte a compressed body may reach. */
  maxRatio: number;
}

// A compressed body is judged on its ratio only past this many decoded
// bytes: small bodies compress well and are harmless.
const RATIO_GRACE_BYTES = 1024 * 1024;

const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: () => createGunzip(),
  'x-gzip': () => createGunzip(),
  deflate: () => createInflate(),
  br: () => createBrotliDecompress(),
};

/** Whether the host decodes a body with this content-encoding. */
export function decodes(encoding: string | undefined): boolean {
  return encoding !== undefined && encoding.toLowerCase() in DECODERS;
}

/**
 * Moves an upstream body to the guest in wire-sized chunks: decoded when
 * compressed, with secrets redacted, and stopped with TOO_LARGE the moment
 * a bound is passed, so a decompression bomb costs the host one chunk.
 */
export async function relayBody(
  body: Readable,
  encoding: string | undefined,
  limits: BodyLimits,
  redactor: Redactor,
  send: (chunk: Buffer) => Promise<void>,
): Promise<void> {
  if (!encoding && !redactor.active) return relayPlain(body, limits.maxBytes, send);
  let encoded = 0;
  let decoded = 0;
  const stages: (Readable | Transform | Writable)[] = [body];

  stages.push(counter((n) => {
    encoded += n;
  }));
  const decoder = encoding ? DECODERS[encoding.toLowerCase()] : undefined;
  if (decoder) stages.push(decoder());
  stages.push(counter((n) => {
    decoded += n;
    if (decoded > limits.maxBytes) {
      throw new PortholeError('TOO_LARGE', `the response body passed the ${limits.maxBytes}-byte limit`, { limit: limits.maxBytes });
    }
    if (decoder && decoded > RATIO_GRACE_BYTES && decoded > encoded * limits.maxRatio) {
      throw new PortholeError('TOO_LARGE', `the compressed response expanded more than ${limits.maxRatio} times`, { limit: limits.maxRatio });
    }
  }));
  if (redactor.active) stages.push(redactor.stream());

  stages.push(new Writable({
    highWaterMark: MAX_CHUNK_BYTES,
    write(data: Buffer, _encoding, done) {
      sendAll(data, send).then(() => done(), done);
    },
  }));

  try {
    await pipeline(stages as unknown as [Readable, Writable]);
  } catch (error) {
    throw unwrapDecodeError(error);
  }
}

// Most bodies are neither compressed nor carry a secret: they are read
// straight from undici without building a stream pipeline per fetch.
async function relayPlain(body: Readable, maxBytes: number, send: (chunk: Buffer) => Promise<void>): Promise<void> {
  let total = 0;
  for await (const data of body as AsyncIterable<Buffer>) {
    total += data.length;
    if (total > maxBytes) {
      body.destroy();
      throw new PortholeError('TOO_LARGE', `the response body passed the ${maxBytes}-byte limit`, { limit: maxBytes });
    }
    await sendAll(data, send);
  }
}

async function sendAll(data: Buffer, send: (chunk: Buffer) => Promise<void>): Promise<void> {
  for (let at = 0; at < data.length; at += MAX_CHUNK_BYTES) {
    await send(data.subarray(at, at + MAX_CHUNK_BYTES));
  }
}

function counter(onBytes: (count: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        onBytes(chunk.length);
        done(null, chunk);
      } catch (error) {
        done(error as Error);
      }
    },
  });
}

function unwrapDecodeError(error: unknown): unknown {
  const code = (error as { code?: string }).code ?? '';
  if (code.startsWith('Z_') || code.startsWith('ERR_BROTLI') || code === 'ERR__ERROR_FORMAT_PADDING_1') {
    return new PortholeError('UPSTREAM_ERROR', `the upstream's compressed body is corrupt (${code})`, { cause: error });
  }
  return error;
}
