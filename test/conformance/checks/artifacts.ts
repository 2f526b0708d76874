import { expect, expectEqual, ok, refused, type Check, type CheckContext, type Endpoint } from '../check.js';
import { artifactBytes, MAIN_ARTIFACTS, type ArtifactSpec } from '../policy.js';
import { expectBytes, expectChunkSizes, readAll, sha256 } from '../streams.js';
import { chunkBytesOf } from './handshake.js';

interface ArtifactHead {
  name: string;
  size: number;
  sha256: string;
  offset: number;
  length: number;
}

interface Listed {
  artifacts: { name: string; size: number; modifiedMs: number }[];
}

const spec = (name: string): ArtifactSpec => MAIN_ARTIFACTS.find((a) => a.name === name)!;

export function readArtifact(endpoint: Endpoint, name: string, offset = 0, length?: number) {
  const request = length === undefined ? { name, offset } : { name, offset, length };
  return endpoint.client.serverStream<ArtifactHead>('readArtifact', request);
}

/** Reads a range and checks head, shape, chunk sizes and bytes against the fixture. */
async function expectRange(ctx: CheckContext, name: string, offset: number, length: number | undefined, want: { offset: number; length: number }): Promise<void> {
  const what = `ReadArtifact ${name} offset ${offset} length ${length ?? 'absent'}`;
  const data = artifactBytes(spec(name));
  const { head, chunks, error } = await readAll(readArtifact(ctx.main, name, offset, length), what);
  if (error) ok({ ok: false, error }, what);
  expect(head, `${what}: the stream ended without a head`);
  expectEqual(head, { name, size: data.length, sha256: sha256(data), offset: want.offset, length: want.length }, `${what}: head`);
  expectChunkSizes(chunks, await chunkBytesOf(ctx), what);
  expectBytes(chunks, data.subarray(want.offset, want.offset + want.length), what);
}

/** [id, title, name, offset, length, served offset, served length] */
const RANGES: [string, string, string, number, number | undefined, number, number][] = [
  ['whole', 'a whole artifact: head, then every byte in order', 'data.bin', 0, undefined, 0, 300_000],
  ['whole-exact-chunks', 'an artifact of exactly two 64 KiB chunks', 'exact.bin', 0, undefined, 0, 131_072],
  ['small', 'a 6-byte artifact', 'alpha.txt', 0, undefined, 0, 6],
  ['empty', 'an empty artifact: a head with size 0 and no chunks', 'empty.txt', 0, undefined, 0, 0],
  ['middle', 'a middle range across a chunk boundary', 'data.bin', 65_530, 20, 65_530, 20],
  ['length-zero', 'length 0 reads nothing', 'data.bin', 100, 0, 100, 0],
  ['offset-at-end', 'offset equal to the size reads nothing', 'data.bin', 300_000, undefined, 300_000, 0],
  ['offset-at-end-length', 'offset equal to the size with a length reads nothing', 'data.bin', 300_000, 10, 300_000, 0],
  ['exact-end', 'a range ending exactly at the end', 'data.bin', 299_990, 10, 299_990, 10],
  ['past-end-cut', 'a range past the end is cut at the end', 'data.bin', 299_990, 1000, 299_990, 10],
  ['to-end', 'no length reads from offset to the end', 'data.bin', 200_000, undefined, 200_000, 100_000],
  ['empty-length', 'length on an empty artifact reads nothing', 'empty.txt', 0, 5, 0, 0],
];

/** [id, name, offset, reason, field] */
const REFUSED: [string, string, string, number, string, string][] = [
  ['offset-past-end', 'offset one past the size is refused', 'data.bin', 300_001, 'INVALID_ARGUMENT', 'offset'],
  ['offset-far-past-end', 'offset far past the size is refused', 'alpha.txt', 1_000_000, 'INVALID_ARGUMENT', 'offset'],
  ['offset-past-empty', 'offset 1 on an empty artifact is refused', 'empty.txt', 1, 'INVALID_ARGUMENT', 'offset'],
  ['missing', 'a name that is no artifact is NOT_FOUND', 'missing.bin', 0, 'NOT_FOUND', 'name'],
  ['folder', 'a folder is not an artifact', 'nested', 0, 'NOT_FOUND', 'name'],
  ['dot-file', 'a dot-file is not an artifact name', '.hidden', 0, 'INVALID_ARGUMENT', 'name'],
  ['path', 'a path is not an artifact name', 'nested/inner.txt', 0, 'INVALID_ARGUMENT', 'name'],
  ['parent', 'a parent path is not an artifact name', '../main/artifacts/alpha.txt', 0, 'INVALID_ARGUMENT', 'name'],
  ['empty-name', 'an empty name is refused', '', 0, 'INVALID_ARGUMENT', 'name'],
];

export const artifactChecks: Check[] = [
  {
    id: 'artifacts.list',
    group: 'artifacts',
    title: 'ListArtifacts lists the folder\'s regular files, sorted, with sizes and times, without dot-files or folders',
    rules: ['A1'],
    async run(ctx) {
      const { artifacts } = ok(await ctx.main.client.unary<Listed>('listArtifacts', {}), 'ListArtifacts');
      const want = MAIN_ARTIFACTS.filter((a) => !a.hidden).map((a) => [a.name, a.size]).sort();
      expectEqual(artifacts.map((a) => [a.name, a.size]), want, 'names and sizes, sorted by name');
      const stale = artifacts.find((a) => !(a.modifiedMs > 1_000_000_000_000));
      expect(!stale, `modified_ms of ${stale?.name} is ${stale?.modifiedMs}, not milliseconds since the epoch`);
    },
  },
  ...RANGES.map(([id, title, name, offset, length, wantOffset, wantLength]): Check => ({
    id: `artifacts.read-${id}`,
    group: 'artifacts',
    title: `ReadArtifact: ${title}`,
    rules: id.startsWith('whole') || id === 'small' ? ['A2', 'S1', 'S2', 'S3'] : ['A2', 'A3', 'S1'],
    run: (ctx) => expectRange(ctx, name, offset, length, { offset: wantOffset, length: wantLength }),
  })),
  {
    id: 'artifacts.read-large-chunks',
    group: 'artifacts',
    title: 'ReadArtifact of 16 MiB: every chunk within chunk_bytes, in order, sha256 of the whole',
    rules: ['A2', 'S2', 'S3'],
    timeoutMs: 60_000,
    run: (ctx) => expectRange(ctx, 'large.bin', 0, undefined, { offset: 0, length: spec('large.bin').size }),
  },
  ...REFUSED.map(([id, title, name, offset, reason, field]): Check => ({
    id: `artifacts.refuse-${id}`,
    group: 'artifacts',
    title: `ReadArtifact: ${title} (${reason}, field ${field})`,
    rules: reason === 'NOT_FOUND' ? ['A4', 'E1', 'E3'] : id.startsWith('offset') ? ['A3', 'E1', 'E3'] : ['A4', 'E1', 'E3'],
    async run(ctx) {
      const what = `ReadArtifact ${JSON.stringify(name)} offset ${offset}`;
      const { head, error } = await readAll(readArtifact(ctx.main, name, offset), what);
      expect(!head, `${what}: a head was sent; a refused read sends no message`);
      refused(error ? { ok: false, error } : { ok: true, value: undefined }, { reason, field, ...(id.startsWith('offset') ? { limit: spec(name).size } : {}) }, what);
    },
  })),
];
