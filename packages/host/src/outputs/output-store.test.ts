import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { outputsPolicySchema } from '@porthole/shared';
import { afterEach, describe, expect, it } from 'vitest';

import { OutputStore } from './output-store.js';

describe('OutputStore idempotency records', () => {
  const folders: string[] = [];
  afterEach(async () => {
    for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
  });

  async function write(store: OutputStore, name: string, text: string, key: string) {
    const output = await store.begin({ name, idempotencyKey: key });
    await output.append(Buffer.from(text));
    return output.finish({ size: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') });
  }

  it('keeps at most the bound, dropping the oldest, and the newest still replay', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'porthole-keys-'));
    folders.push(dir);
    const store = new OutputStore(outputsPolicySchema.parse({ dir, maxBytes: 1_000_000, maxFiles: 10, maxFileBytes: 1000 }), 8);
    await store.open();
    const keys = join(dir, '.porthole', 'keys');

    // One name written over and over, as an agent rewriting its report does.
    const counts: number[] = [];
    for (let i = 0; i < 20; i++) {
      await write(store, 'report.txt', `version ${i}`, `key-${i}`);
      counts.push((await readdir(keys)).length);
    }
    expect(Math.max(...counts)).toBeLessThanOrEqual(8);
    expect(counts.slice(0, 9)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 6]);

    expect(await write(store, 'report.txt', 'version 19', 'key-19')).toMatchObject({ replayed: true });
    // The oldest record is gone: its retry is stored again, as a first write.
    expect(await write(store, 'report.txt', 'version 0', 'key-0')).toMatchObject({ replayed: false });
    expect(await readFile(join(dir, 'report.txt'), 'utf8')).toBe('version 0');
  });

  it('counts the records a previous run left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'porthole-keys-'));
    folders.push(dir);
    const policy = outputsPolicySchema.parse({ dir, maxBytes: 1_000_000, maxFiles: 10, maxFileBytes: 1000 });
    const first = new OutputStore(policy, 8);
    await first.open();
    for (let i = 0; i < 8; i++) await write(first, 'a.txt', `v${i}`, `k${i}`);
    const second = new OutputStore(policy, 8);
    await second.open();
    await write(second, 'a.txt', 'v8', 'k8');
    expect(await readdir(join(dir, '.porthole', 'keys'))).toHaveLength(6);
  });
});
