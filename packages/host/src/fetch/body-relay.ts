import { pipeline } from 'node:stream/promises';
import { finished, Readable, Transform, Writable } from 'node:stream';
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

/** Sends one chunk to the guest; a promise only when the chunk must wait. */
export type SendChunk = (chunk: Buffer) => Promise<void> | undefined;

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
  send: SendChunk,
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
      let sent: Promise<void> | undefined;
      try {
        sent = sendAll(data, send);
      } catch (error) {
        done(error as Error);
        return;
      }
      if (sent) sent.then(() => done(), done);
      else done();
    },
  }));

  try {
    await pipeline(stages as unknown as [Readable, Writable]);
  } catch (error) {
    throw unwrapDecodeError(error);
  }
}

// Most bodies are neither compressed nor carry a secret: they are read
// straight from undici's stream, which is paused only while a chunk waits
// for the guest. No stream pipeline, and no async iterator with a promise
// per chunk.
function relayPlain(body: Readable, maxBytes: number, send: SendChunk): Promise<void> {
  return new Promise((resolve, reject) => {
    let total = 0;
    let sending: Promise<void> | undefined;
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      body.off('data', onData);
      body.destroy();
      reject(error);
    };
    const onData = (data: Buffer): void => {
      total += data.length;
      if (total > maxBytes) {
        fail(new PortholeError('TOO_LARGE', `the response body passed the ${maxBytes}-byte limit`, { limit: maxBytes }));
        return;
      }
      try {
        sending = sendAll(data, send);
      } catch (error) {
        fail(error);
        return;
      }
      if (!sending) return;
      body.pause();
      sending.then(() => {
        sending = undefined;
        if (!failed) body.resume();
      }, fail);
    };
    body.on('data', onData);
    // The end can come while the last chunk still waits for the guest.
    finished(body, (error) => {
      if (error) fail(error);
      else if (sending) sending.then(() => resolve(), fail);
      else resolve();
    });
  });
}

function sendAll(data: Buffer, send: SendChunk): Promise<void> | undefined {
  if (data.length <= MAX_CHUNK_BYTES) return send(data);
  return (async () => {
    for (let at = 0; at < data.length; at += MAX_CHUNK_BYTES) {
      await send(data.subarray(at, at + MAX_CHUNK_BYTES));
    }
  })();
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
