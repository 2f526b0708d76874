import { createHash } from 'node:crypto';
import { link, mkdir, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestHost } from '../support/host-fixture.js';

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('ListArtifacts and ReadArtifact', () => {
  let host: TestHost;
  const data = Buffer.alloc(300_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;

  beforeAll(async () => {
    host = await TestHost.start();
    const dir = host.artifacts();
    await writeFile(join(dir, 'data.bin'), data);
    await writeFile(join(dir, 'empty.txt'), '');
    await writeFile(join(dir, 'notes.md'), 'hello\n');
    await writeFile(join(dir, '.hidden'), 'not listed');
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'inner.txt'), 'not listed either');
    // Planted links that point outside the folder must never be served.
    await writeFile(join(host.dir, 'secret.txt'), 'host secret');
    await symlink(join(host.dir, 'secret.txt'), join(dir, 'link-out'));
    await link(join(host.dir, 'secret.txt'), join(dir, 'hardlink-out'));
  });
  afterAll(() => host.stop());

  it('lists regular files only, sorted, without dot-files, folders or links', async () => {
    const list = await host.client().listArtifacts();
    expect(list.map((a) => [a.name, a.size])).toEqual([
      ['data.bin', 300_000],
      ['empty.txt', 0],
      ['notes.md', 6],
    ]);
    expect(list.every((a) => a.modifiedMs > 0)).toBe(true);
  });

  it('streams a whole artifact with its size and sha256 in the head', async () => {
    const stream = await host.client().readArtifact('data.bin');
    expect(stream.head).toEqual({ name: 'data.bin', size: 300_000, sha256: sha256(data), offset: 0, length: 300_000 });
    const chunks: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(64 * 1024);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it.each([
    ['a middle range', 1000, 5000, 1000, 5000],
    ['length 0 reads nothing', 10, 0, 10, 0],
    ['offset at the exact end reads nothing', 300_000, undefined, 300_000, 0],
    ['a range past the end is cut at the end', 299_990, 100, 299_990, 10],
    ['no length reads to the end', 299_000, undefined, 299_000, 1000],
  ])('reads %s', async (_what, offset, length, wantOffset, wantLength) => {
    const range = length === undefined ? { offset } : { offset, length };
    const bytes = await host.client().readArtifactBuffer('data.bin', range);
    expect(bytes.equals(data.subarray(wantOffset, wantOffset + wantLength))).toBe(true);
    const stream = await host.client().readArtifact('data.bin', range);
    expect(stream.head).toMatchObject({ offset: wantOffset, length: wantLength, size: 300_000 });
    stream.destroy();
  });

  it('reads an empty artifact', async () => {
    expect((await host.client().readArtifactBuffer('empty.txt')).length).toBe(0);
  });

  it.each([
    ['an offset past the end', 'data.bin', { offset: 300_001 }, 'INVALID_ARGUMENT', 'offset', 'offset 300001 is past the end of "data.bin" (300000 bytes)'],
    ['a missing name', 'nope.bin', {}, 'NOT_FOUND', 'name', 'no artifact named "nope.bin"'],
    ['a path', '../secret.txt', {}, 'INVALID_ARGUMENT', 'name', 'name "../secret.txt" is not an artifact name: names are single entries from ListArtifacts'],
    ['a folder path', 'sub/inner.txt', {}, 'INVALID_ARGUMENT', 'name', 'name "sub/inner.txt" is not an artifact name: names are single entries from ListArtifacts'],
    ['an empty name', '', {}, 'INVALID_ARGUMENT', 'name', 'name "" is not an artifact name: names are single entries from ListArtifacts'],
    ['a dot-file', '.hidden', {}, 'INVALID_ARGUMENT', 'name', 'name ".hidden" is not an artifact name: names are single entries from ListArtifacts'],
    ['a folder', 'sub', {}, 'NOT_FOUND', 'name', 'no artifact named "sub"'],
    ['a planted symlink', 'link-out', {}, 'NOT_FOUND', 'name', 'no artifact named "link-out"'],
    ['a planted hard link', 'hardlink-out', {}, 'NOT_FOUND', 'name', 'no artifact named "hardlink-out"'],
  ])('refuses %s', async (_what, name, range, code, field, message) => {
    const error = await host.client().readArtifact(name, range).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ name: 'PortholeError', code, field, message });
  });

  it('audits every read with its target and bytes', async () => {
    await host.client().readArtifactBuffer('notes.md');
    const entries = await host.audit();
    expect(entries.at(-1)).toMatchObject({
      sandbox: 'alpha', action: 'ReadArtifact', target: 'notes.md', decision: 'allowed', reason: null, bytes: 6,
    });
    expect(entries.some((e) => e.target === 'link-out' && e.reason === 'NOT_FOUND' && e.decision === 'denied')).toBe(true);
  });

  it('stops serving when the guest stops reading early', async () => {
    const big = Buffer.alloc(32 * 1024 * 1024, 7);
    await writeFile(join(host.artifacts(), 'big.bin'), big);
    const stream = await host.client().readArtifact('big.bin');
    for await (const _chunk of stream) break;

    let entry;
    for (let i = 0; i < 100 && !entry; i++) {
      entry = (await host.audit()).find((e) => e.target === 'big.bin');
      if (!entry) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(entry).toMatchObject({ decision: 'failed', reason: 'UNAVAILABLE', message: 'the guest cancelled the call' });
    expect(entry!.bytes).toBeLessThan(big.length / 2);
  });
  it.each([
    ['offset', { offset: -5 }, 'offset must be a whole number of bytes, 0 or more; got -5'],
    ['offset', { offset: 1.5 }, 'offset must be a whole number of bytes, 0 or more; got 1.5'],
    ['offset', { offset: Number.NaN }, 'offset must be a whole number of bytes, 0 or more; got NaN'],
    ['length', { length: -1 }, 'length must be a whole number of bytes, 0 or more; got -1'],
    ['length', { length: 2.7 }, 'length must be a whole number of bytes, 0 or more; got 2.7'],
  ])('refuses a bad %s in the SDK before anything is sent: %j', async (field, range, message) => {
    const before = (await host.audit()).length;
    await expect(host.client().readArtifact('data.bin', range)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field, message });
    expect((await host.audit()).length).toBe(before);
  });

  it('fails a read whose artifact shrinks under it, instead of serving short', async () => {
    await writeFile(join(host.artifacts(), 'shrinks.bin'), Buffer.alloc(32 * 1024 * 1024, 9));
    const stream = await host.client().readArtifact('shrinks.bin');
    let got = 0;
    const error = await (async () => {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (got === 0) await truncate(join(host.artifacts(), 'shrinks.bin'), 1024 * 1024);
        got += chunk.length;
      }
    })().then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', message: 'artifact "shrinks.bin" shrank while it was read' });
    expect(got).toBeLessThan(32 * 1024 * 1024);
  });
});
