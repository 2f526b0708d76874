import { createHash } from 'node:crypto';

import { fail } from './check.js';
import type { StreamReader, WireError } from './wire.js';

/** The contract's largest chunk (rule S2). */
export const MAX_CHUNK_BYTES = 64 * 1024;

export interface HeadAndChunks<H> {
  head: H | undefined;
  chunks: Buffer[];
  error: WireError | undefined;
}

/**
 * Reads a head-then-chunks stream to its end and checks its shape (rule
 * S1): when anything is sent, the first message is the only head, every
 * later one a chunk.
 */
export async function readAll<H>(reader: StreamReader<H>, what: string): Promise<HeadAndChunks<H>> {
  const { messages, error } = await reader.drain();
  let head: H | undefined;
  const chunks: Buffer[] = [];
  messages.forEach((message, index) => {
    if (message.part === 'head' && message.head) {
      if (index !== 0) fail(`${what}: message ${index} is a second head; only the first message may be one`);
      head = message.head;
    } else if (message.part === 'chunk' && message.chunk) {
      if (index === 0) fail(`${what}: the first message is a chunk; it must be the head`);
      chunks.push(message.chunk);
    } else {
      fail(`${what}: message ${index} is neither a head nor a chunk`);
    }
  });
  return { head, chunks, error };
}

/** Fails unless every chunk is within the contract's and the host's bound (rule S2). */
export function expectChunkSizes(chunks: Buffer[], chunkBytes: number, what: string): void {
  const bound = Math.min(MAX_CHUNK_BYTES, chunkBytes > 0 ? chunkBytes : MAX_CHUNK_BYTES);
  const biggest = chunks.reduce((max, c) => Math.max(max, c.length), 0);
  if (biggest > bound) fail(`${what}: a chunk is ${biggest} bytes, the bound is ${bound} (Hello chunk_bytes ${chunkBytes}, contract 65536)`);
}

/** Fails unless the chunks, in order, are exactly `expected` (rule S3). */
export function expectBytes(chunks: Buffer[], expected: Buffer, what: string): void {
  const got = Buffer.concat(chunks);
  if (got.equals(expected)) return;
  if (got.length !== expected.length) fail(`${what}: ${got.length} bytes arrived, expected ${expected.length}`);
  let at = 0;
  while (at < got.length && got[at] === expected[at]) at++;
  fail(`${what}: the bytes differ from byte ${at} on (chunks out of order or wrong content)`);
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
