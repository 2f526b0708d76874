import { once } from 'node:events';
import type { Transform } from 'node:stream';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { Redactor } from './redactor.js';

/** What `stream` has passed on so far, without ending it. */
async function passedOn(stream: Transform, chunk: string): Promise<string> {
  stream.write(chunk);
  await new Promise((resolve) => setImmediate(resolve));
  let out = '';
  for (let part = stream.read() as Buffer | null; part !== null; part = stream.read() as Buffer | null) out += part.toString();
  return out;
}

async function whole(redactor: Redactor, chunks: string[]): Promise<string> {
  const stream = redactor.stream();
  const parts: Buffer[] = [];
  stream.on('data', (part: Buffer) => parts.push(part));
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  await once(stream, 'end');
  return Buffer.concat(parts).toString();
}

describe('Redactor.stream', () => {
  const redactor = new Redactor(['sk-SECRET', 'other-key']);

  it('passes on at once what cannot start a secret, and holds back only what can', async () => {
    const stream = redactor.stream();
    expect(await passedOn(stream, 'tick 0\n')).toBe('tick 0\n');
    expect(await passedOn(stream, 'tick 1\n')).toBe('tick 1\n');
    expect(await passedOn(stream, 'key sk-SE')).toBe('key ');
    expect(await passedOn(stream, 'CRET, ot')).toBe('[redacted], ');
    expect(await passedOn(stream, 'her')).toBe('');
    expect(await passedOn(stream, 'wise')).toBe('otherwise');
  });

  it('replaces a secret however the body is cut into chunks', async () => {
    const secret = 'sk-SECRET';
    const one = new Redactor([secret]);
    await fc.assert(fc.asyncProperty(
      fc.array(fc.oneof(fc.constant(secret), fc.constant('sk-'), fc.constant('S'), fc.string({ maxLength: 8 })), { maxLength: 12 }),
      fc.array(fc.nat(40), { maxLength: 6 }),
      async (pieces, cuts) => {
        const text = pieces.join('');
        const at = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
        const chunks = [0, ...at].map((from, i) => text.slice(from, [...at, text.length][i])).filter((c) => c.length > 0);
        expect(await whole(one, chunks)).toBe(text.replaceAll(secret, '[redacted]'));
      },
    ), { numRuns: 300 });
  });
});
