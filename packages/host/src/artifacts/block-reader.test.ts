import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BlockReader } from './block-reader.js';

describe('BlockReader', () => {
  let dir: string;
  let path: string;
  const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 13) & 0xff));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porthole-blocks-'));
    path = join(dir, 'data.bin');
    await writeFile(path, data);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads a range in blocks, the last one short, then ends', async () => {
    const handle = await open(path);
    try {
      const reader = new BlockReader(handle, 100, 9_100, 4096, 'data.bin');
      const sizes: number[] = [];
      const parts: Buffer[] = [];
      for (let block = await reader.read(); block; block = await reader.read()) {
        sizes.push(block.length);
        parts.push(block);
      }
      expect(sizes).toEqual([4096, 4096, 808]);
      expect(Buffer.concat(parts).equals(data.subarray(100, 9_100))).toBe(true);
      expect(await reader.read()).toBeUndefined();
    } finally {
      await handle.close();
    }
  });

  it('reads nothing for an empty range', async () => {
    const handle = await open(path);
    try {
      expect(await new BlockReader(handle, 10_000, 10_000, 4096, 'data.bin').read()).toBeUndefined();
    } finally {
      await handle.close();
    }
  });

  it('refuses a block the file no longer holds', async () => {
    const handle = await open(path);
    try {
      // The range claims more than the file has, as after a truncation.
      const reader = new BlockReader(handle, 8_000, 12_000, 4096, 'data.bin');
      await expect(reader.read()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'artifact "data.bin" shrank while it was read' });
    } finally {
      await handle.close();
    }
  });

  it('lets a reader stopped early wait for its read ahead before the file closes', async () => {
    const handle = await open(path);
    const reader = new BlockReader(handle, 0, 10_000, 1024, 'data.bin');
    expect((await reader.read())?.length).toBe(1024);
    await reader.settle();
    await handle.close();
    expect(await reader.read()).toBeUndefined();
  });
});
