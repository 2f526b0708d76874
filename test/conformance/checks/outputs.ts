import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { expect, expectEqual, fail, ok, refused, sleep, type Check, type CheckContext, type Endpoint, type Refusal } from '../check.js';
import { sha256 } from '../streams.js';
import type { Outcome } from '../wire.js';

interface Stored {
  name: string;
  size: number;
  sha256: string;
  replayed: boolean;
}

interface Head {
  name: string;
  contentType?: string;
  idempotencyKey?: string;
  expectedSize?: number;
}

const CHUNK = 64 * 1024;

function chunksOf(data: Buffer): { chunk: Buffer }[] {
  const out: { chunk: Buffer }[] = [];
  for (let at = 0; at < data.length; at += CHUNK) out.push({ chunk: data.subarray(at, at + CHUNK) });
  return out;
}

/** Sends messages on a WriteOutput call, then ends it; stops early if the host answers. */
export async function writeMessages(endpoint: Endpoint, messages: object[], end = true): Promise<Outcome<Stored>> {
  const { call, reply } = endpoint.client.clientStream<Stored>('writeOutput');
  call.on('error', () => undefined);
  let answered = false;
  void reply.then(() => (answered = true));
  for (const message of messages) {
    if (answered) break;
    if (!call.write(message)) await Promise.race([once(call, 'drain'), reply]);
  }
  if (end) call.end();
  return reply;
}

/** The end message a guest sends after its chunks. */
function endOf(data: Buffer): { end: { size: number; sha256: string } } {
  return { end: { size: data.length, sha256: sha256(data) } };
}

function headOf(head: Head): { head: Required<Pick<Head, 'name' | 'contentType' | 'idempotencyKey'>> & Head } {
  return { head: { contentType: 'application/octet-stream', idempotencyKey: '', ...head } };
}

export function write(endpoint: Endpoint, head: Head, data: Buffer): Promise<Outcome<Stored>> {
  return writeMessages(endpoint, [headOf(head), ...chunksOf(data), endOf(data)]);
}

function outputsDir(endpoint: Endpoint): string {
  const dir = endpoint.policy.outputs?.dir;
  if (!dir) fail(`sandbox ${endpoint.policy.id} has no outputs in the policy`);
  return dir;
}

async function stored(endpoint: Endpoint, name: string): Promise<Buffer | undefined> {
  return readFile(join(outputsDir(endpoint), name)).catch(() => undefined);
}

/** The output names in the folder (dot-entries are the host's own). */
export async function outputNames(endpoint: Endpoint): Promise<string[]> {
  return (await readdir(outputsDir(endpoint))).filter((n) => !n.startsWith('.')).sort();
}

async function expectStored(ctx: CheckContext, name: string, data: Buffer, outcome: Outcome<Stored>, what: string, replayed = false): Promise<void> {
  const reply = ok(outcome, what);
  expectEqual(reply, { name, size: data.length, sha256: sha256(data), replayed }, `${what}: reply`);
  const onDisk = await stored(ctx.main, name);
  expect(onDisk, `${what}: the reply arrived but ${name} is not in the outputs folder`);
  expect(onDisk.equals(data), `${what}: ${name} holds ${onDisk.length} bytes, not the ${data.length} written`);
}

/** Refused, and the folder holds no new output. */
async function expectRefusedWrite(ctx: CheckContext, outcome: Outcome<Stored>, want: Refusal, what: string): Promise<void> {
  const before = await outputNames(ctx.main);
  refused(outcome, want, what);
  // A correct host never stores a refused write; a moment lets a wrong one show it.
  await sleep(200);
  const after = await outputNames(ctx.main);
  const added = after.filter((n) => !before.includes(n));
  if (added.length > 0) fail(`${what}: refused, yet ${added.join(', ')} appeared in the outputs folder`);
}

const pattern = (size: number, seed: number): Buffer => {
  const data = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + seed) & 0xff;
  return data;
};

const BAD_NAMES: [string, string][] = [
  ['empty', ''],
  ['dot-file', '.hidden'],
  ['parent', '../escape'],
  ['slash', 'a/b'],
  ['backslash', 'a\\b'],
  ['space', 'with space'],
  ['too-long', 'x'.repeat(129)],
];

export const outputChecks: Check[] = [
  {
    id: 'outputs.write-small',
    group: 'outputs',
    title: 'WriteOutput: head and one chunk; the reply\'s name, size, sha256; the output exists whole',
    rules: ['O1', 'O2'],
    async run(ctx) {
      const data = Buffer.from('hello output\n');
      await expectStored(ctx, 'hello.txt', data, await write(ctx.main, { name: 'hello.txt', contentType: 'text/plain' }, data), 'write hello.txt');
    },
  },
  {
    id: 'outputs.write-multi-chunk',
    group: 'outputs',
    title: 'WriteOutput of 200 KiB in 64 KiB chunks, stored in order',
    rules: ['O1', 'O2'],
    async run(ctx) {
      const data = pattern(200 * 1024, 3);
      await expectStored(ctx, 'multi.bin', data, await write(ctx.main, { name: 'multi.bin' }, data), 'write multi.bin');
    },
  },
  {
    id: 'outputs.write-empty',
    group: 'outputs',
    title: 'WriteOutput with a head and no chunks stores an empty output',
    rules: ['O1', 'O2'],
    async run(ctx) {
      await expectStored(ctx, 'empty.out', Buffer.alloc(0), await write(ctx.main, { name: 'empty.out' }, Buffer.alloc(0)), 'write empty.out');
    },
  },
  {
    id: 'outputs.name-128',
    group: 'outputs',
    title: 'a 128-character name of [A-Za-z0-9._-] is accepted',
    rules: ['O3'],
    async run(ctx) {
      const name = `N-_.${'a'.repeat(124)}`;
      await expectStored(ctx, name, Buffer.from('x'), await write(ctx.main, { name }, Buffer.from('x')), 'write a 128-character name');
    },
  },
  {
    id: 'outputs.idempotent-replay',
    group: 'outputs',
    title: 'a retried write with the same key and content stores one output and replays the reply',
    rules: ['O5'],
    async run(ctx) {
      const data = Buffer.from('first and only\n');
      const head = { name: 'replay.txt', idempotencyKey: `key-${ctx.token()}` };
      await expectStored(ctx, 'replay.txt', data, await write(ctx.main, head, data), 'first write');
      const before = await outputNames(ctx.main);
      await expectStored(ctx, 'replay.txt', data, await write(ctx.main, head, data), 'retried write', true);
      expectEqual(await outputNames(ctx.main), before, 'outputs after the retry');
    },
  },
  {
    id: 'outputs.idempotent-other-content',
    group: 'outputs',
    title: 'the same key with other content is INVALID_ARGUMENT on head.idempotency_key; the first output stays',
    rules: ['O5', 'E1', 'E3'],
    async run(ctx) {
      const head = { name: 'keyed.txt', idempotencyKey: `key-${ctx.token()}` };
      const first = Buffer.from('original\n');
      ok(await write(ctx.main, head, first), 'first write');
      refused(await write(ctx.main, head, Buffer.from('changed\n')), { reason: 'INVALID_ARGUMENT', field: 'head.idempotency_key' }, 'same key, other content');
      const onDisk = await stored(ctx.main, 'keyed.txt');
      expect(onDisk?.equals(first), 'keyed.txt no longer holds the first write');
    },
  },
  {
    id: 'outputs.expected-size',
    group: 'outputs',
    title: 'expected_size equal to the bytes sent is accepted',
    rules: ['O4'],
    async run(ctx) {
      const data = Buffer.from('exactly twenty bytes');
      await expectStored(ctx, 'expected.txt', data, await write(ctx.main, { name: 'expected.txt', expectedSize: data.length }, data), 'write with expected_size');
    },
  },
  ...[['short', 100, 50], ['over', 10, 50], ['zero', 0, 1]].map(([id, expected, sent]): Check => ({
    id: `outputs.refuse-expected-size-${id}`,
    group: 'outputs',
    title: `expected_size ${expected} with ${sent} bytes sent is INVALID_ARGUMENT on head.expected_size; nothing stored`,
    rules: ['O4', 'O2', 'E1', 'E3'],
    async run(ctx) {
      const name = `mismatch-${id}.bin`;
      await expectRefusedWrite(ctx, await write(ctx.main, { name, expectedSize: expected as number }, Buffer.alloc(sent as number, 1)), { reason: 'INVALID_ARGUMENT', field: 'head.expected_size' }, `write ${name}`);
    },
  })),
  ...BAD_NAMES.map(([id, name]): Check => ({
    id: `outputs.refuse-name-${id}`,
    group: 'outputs',
    title: `the name ${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}...(${name.length})` : name)} is INVALID_ARGUMENT on head.name`,
    rules: ['O3', 'E1', 'E3'],
    async run(ctx) {
      await expectRefusedWrite(ctx, await write(ctx.main, { name }, Buffer.from('x')), { reason: 'INVALID_ARGUMENT', field: 'head.name' }, `write ${JSON.stringify(name)}`);
    },
  })),
  {
    id: 'outputs.refuse-chunk-first',
    group: 'outputs',
    title: 'a first message that is a chunk is INVALID_ARGUMENT on head',
    rules: ['O1', 'E1', 'E3'],
    async run(ctx) {
      await expectRefusedWrite(ctx, await writeMessages(ctx.main, [{ chunk: Buffer.from('x') }]), { reason: 'INVALID_ARGUMENT', field: 'head' }, 'chunk first');
    },
  },
  {
    id: 'outputs.refuse-no-message',
    group: 'outputs',
    title: 'a call with no message at all is INVALID_ARGUMENT on head',
    rules: ['O1', 'E1', 'E3'],
    async run(ctx) {
      await expectRefusedWrite(ctx, await writeMessages(ctx.main, []), { reason: 'INVALID_ARGUMENT', field: 'head' }, 'no message');
    },
  },
  {
    id: 'outputs.refuse-second-head',
    group: 'outputs',
    title: 'a second head is INVALID_ARGUMENT on head; nothing stored',
    rules: ['O1', 'O2', 'E1', 'E3'],
    async run(ctx) {
      const head = { head: { name: 'two-heads.txt', contentType: '', idempotencyKey: '' } };
      await expectRefusedWrite(ctx, await writeMessages(ctx.main, [head, { chunk: Buffer.from('x') }, head]), { reason: 'INVALID_ARGUMENT', field: 'head' }, 'second head');
    },
  },
  {
    id: 'outputs.refuse-no-end',
    group: 'outputs',
    title: 'a stream that ends after its chunks without an end message is INVALID_ARGUMENT on end; nothing stored',
    rules: ['O1', 'O2', 'E1', 'E3'],
    async run(ctx) {
      const data = Buffer.from('no end message');
      await expectRefusedWrite(ctx, await writeMessages(ctx.main, [headOf({ name: 'no-end.txt' }), ...chunksOf(data)]), { reason: 'INVALID_ARGUMENT', field: 'end' }, 'write without an end');
    },
  },
  {
    id: 'outputs.refuse-end-size',
    group: 'outputs',
    title: 'an end whose size is not the bytes sent is INVALID_ARGUMENT on end.size; nothing stored',
    rules: ['O1', 'O2', 'E1', 'E3'],
    async run(ctx) {
      const data = Buffer.from('twelve bytes');
      await expectRefusedWrite(ctx, await writeMessages(ctx.main, [headOf({ name: 'end-size.txt' }), ...chunksOf(data), { end: { size: 13, sha256: '' } }]), { reason: 'INVALID_ARGUMENT', field: 'end.size' }, 'end.size 13 after 12 bytes');
    },
  },
  {
    id: 'outputs.refuse-end-sha256',
    group: 'outputs',
    title: 'an end whose sha256 is not the content\'s is INVALID_ARGUMENT on end.sha256; nothing stored',
    rules: ['O1', 'O2', 'E1', 'E3'],
    async run(ctx) {
      const data = Buffer.from('checked content');
      const wrong = { end: { size: data.length, sha256: sha256(Buffer.from('other content')) } };
      await expectRefusedWrite(ctx, await writeMessages(ctx.main, [headOf({ name: 'end-sha.txt' }), ...chunksOf(data), wrong]), { reason: 'INVALID_ARGUMENT', field: 'end.sha256' }, 'wrong end.sha256');
    },
  },
  {
    id: 'outputs.refuse-after-end',
    group: 'outputs',
    title: 'a chunk after the end is INVALID_ARGUMENT on end; nothing stored',
    rules: ['O1', 'O2', 'E1', 'E3'],
    async run(ctx) {
      const data = Buffer.from('x');
      await expectRefusedWrite(ctx, await writeMessages(ctx.main, [headOf({ name: 'after-end.txt' }), ...chunksOf(data), endOf(data), { chunk: Buffer.from('late') }]), { reason: 'INVALID_ARGUMENT', field: 'end' }, 'chunk after end');
    },
  },
  {
    id: 'outputs.end-without-sha256',
    group: 'outputs',
    title: 'an end with the size and no sha256 is accepted',
    rules: ['O1'],
    async run(ctx) {
      const data = Buffer.from('size only');
      await expectStored(ctx, 'size-only.txt', data, await writeMessages(ctx.main, [headOf({ name: 'size-only.txt' }), ...chunksOf(data), { end: { size: data.length, sha256: '' } }]), 'end without sha256');
    },
  },
  {
    id: 'outputs.refuse-too-large',
    group: 'outputs',
    title: 'an output passing max_file_bytes is TOO_LARGE with the limit; nothing stored',
    rules: ['O6', 'O2', 'E1', 'E3'],
    async run(ctx) {
      const max = ctx.main.policy.outputs!.maxFileBytes;
      await expectRefusedWrite(ctx, await write(ctx.main, { name: 'too-large.bin' }, Buffer.alloc(max + 1, 2)), { reason: 'TOO_LARGE', limit: max }, 'write max_file_bytes + 1');
    },
  },
  {
    id: 'outputs.refuse-expected-too-large',
    group: 'outputs',
    title: 'expected_size over max_file_bytes is TOO_LARGE on head.expected_size with the limit',
    rules: ['O6', 'E1', 'E3'],
    async run(ctx) {
      const max = ctx.main.policy.outputs!.maxFileBytes;
      await expectRefusedWrite(ctx, await write(ctx.main, { name: 'expected-large.bin', expectedSize: max + 1 }, Buffer.from('x')), { reason: 'TOO_LARGE', field: 'head.expected_size', limit: max }, 'expected_size max + 1');
    },
  },
  {
    id: 'outputs.cancelled-leaves-nothing',
    group: 'outputs',
    title: 'a write the guest cancels after a chunk leaves no output',
    rules: ['O2', 'C3'],
    async run(ctx) {
      const { call, reply } = ctx.main.client.clientStream<Stored>('writeOutput');
      call.on('error', () => undefined);
      call.write({ head: { name: 'cancelled.bin', contentType: '', idempotencyKey: '' } });
      call.write({ chunk: Buffer.alloc(CHUNK, 3) });
      await sleep(200);
      call.cancel();
      await reply;
      await sleep(300);
      expect(!(await stored(ctx.main, 'cancelled.bin')), 'cancelled.bin exists after the guest cancelled its write');
    },
  },
  {
    id: 'outputs.quota-bytes',
    group: 'outputs',
    title: 'writes past the sandbox\'s total bytes are QUOTA_EXCEEDED with the limit; nothing partial stored',
    rules: ['O6', 'E1', 'E3'],
    async run(ctx) {
      const { maxBytes, maxFileBytes, maxFiles } = ctx.main.policy.outputs!;
      const data = Buffer.alloc(maxFileBytes, 4);
      for (let i = 0; i < Math.ceil(maxBytes / maxFileBytes) + 1 && i < maxFiles; i++) {
        const outcome = await write(ctx.main, { name: `fill-${i}.bin` }, data);
        if (outcome.ok) continue;
        refused(outcome, { reason: 'QUOTA_EXCEEDED', limit: maxBytes }, `write fill-${i}.bin`);
        expect(!(await stored(ctx.main, `fill-${i}.bin`)), `fill-${i}.bin was refused yet stored`);
        return;
      }
      fail(`more than ${maxBytes} bytes of outputs were accepted`);
    },
  },
  {
    id: 'outputs.quota-files',
    group: 'outputs',
    title: 'a write past the sandbox\'s number of outputs is QUOTA_EXCEEDED with the limit',
    rules: ['O6', 'E1', 'E3'],
    async run(ctx) {
      const { maxFiles } = ctx.main.policy.outputs!;
      for (let i = 0; i <= maxFiles; i++) {
        const outcome = await write(ctx.main, { name: `count-${i}.txt` }, Buffer.from('1'));
        if (outcome.ok) continue;
        refused(outcome, { reason: 'QUOTA_EXCEEDED', limit: maxFiles }, `write count-${i}.txt`);
        const count = (await outputNames(ctx.main)).length;
        expectEqual(count, maxFiles, 'outputs in the folder when the count quota refused');
        return;
      }
      fail(`more than ${maxFiles} outputs were accepted`);
    },
  },
];
