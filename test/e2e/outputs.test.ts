import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import { sandboxEntry, TestHost } from '../support/host-fixture.js';
import { eventually } from '../support/node-child.js';

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

const SMALL_QUOTAS = { dir: 'alpha/outputs', maxBytes: 1000, maxFiles: 3, maxFileBytes: 600 };

describe('WriteOutput', () => {
  let host: TestHost | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  async function start(outputs?: Record<string, unknown>): Promise<TestHost> {
    host = await TestHost.start({ sandboxes: [sandboxEntry('alpha', outputs ? { outputs } : {})] });
    return host;
  }

  it.each([
    ['a string', 'hello world\n', Buffer.from('hello world\n')],
    ['bytes', new Uint8Array([0, 1, 2, 255]), Buffer.from([0, 1, 2, 255])],
    ['an async iterable', (async function* () { yield 'a'; yield Buffer.from('bc'); })(), Buffer.from('abc')],
    ['a Node stream', Readable.from([Buffer.alloc(200_000, 1), Buffer.alloc(100_000, 2)]), Buffer.concat([Buffer.alloc(200_000, 1), Buffer.alloc(100_000, 2)])],
    ['nothing', '', Buffer.alloc(0)],
  ])('stores %s, content only, with mode 0640', async (_what, data, expected) => {
    const h = await start();
    const stored = await h.client().writeOutput('out.bin', data as never);
    expect(stored).toEqual({ name: 'out.bin', size: expected.length, sha256: sha256(expected), replayed: false });

    const path = join(h.outputs(), 'out.bin');
    expect((await readFile(path)).equals(expected)).toBe(true);
    const info = await stat(path);
    expect(info.mode & 0o7777).toBe(0o640);
    expect(await h.outputNames()).toEqual(['out.bin']);
    expect(await h.temporaries()).toEqual([]);
  });

  it('surfaces a refusal of a streamed write as a rejection, whenever it arrives', async () => {
    const h = await start();
    const { createReadStream } = await import('node:fs');
    const source = join(h.dir, 'source.bin');
    await writeFile(source, Buffer.alloc(2 * 1024 * 1024, 7));
    for (const name of ['a/b.txt', 'with space', 'CON']) {
      const error = await h.client().writeOutput(name, createReadStream(source)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'head.name' });
    }
    expect(await h.outputNames()).toEqual([]);
  });

  it("reports data that cannot be read as the guest's own problem", async () => {
    const h = await start();
    const { createReadStream } = await import('node:fs');
    const error = await h.client().writeOutput('ok.txt', createReadStream(join(h.dir, 'missing.bin'))).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'data' });
    expect((error as Error).message).toMatch(/^the data to write could not be read: ENOENT/);
    // The guest's cancel reaches the host a moment after the SDK rejects.
    await eventually(async () => (await h.temporaries()).length === 0, 'the host dropped the temporary file');
    expect(await h.outputNames()).toEqual([]);
  });

  it('has the host check the content hash when asked to', async () => {
    const h = await start();
    const stored = await h.client().writeOutput('checked.txt', 'hash me', { verifySha256: true });
    expect(stored).toMatchObject({ size: 7, sha256: sha256('hash me') });
  });

  it('stores nothing when the stream ends without its end message', async () => {
    const h = await start();
    const { credentials } = await import('@grpc/grpc-js');
    const { portholeClientClass, PortholeError } = await import('@porthole/shared');
    const raw = new (portholeClientClass())(h.address(), credentials.createInsecure());
    const error = await new Promise<unknown>((resolve) => {
      const call = raw.writeOutput((e) => resolve(e));
      call.write({ head: { name: 'cut.txt', contentType: '', idempotencyKey: '' } });
      call.write({ chunk: Buffer.from('half of it') });
      call.end();
    });
    raw.close();
    expect(PortholeError.from(error)).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'end', message: 'the stream ended without an end message; nothing was stored' });
    expect(await h.outputNames()).toEqual([]);
    expect(await h.temporaries()).toEqual([]);
  });

  it('replaces an output of the same name atomically and counts it once', async () => {
    const h = await start(SMALL_QUOTAS);
    const client = h.client();
    await client.writeOutput('r.txt', 'x'.repeat(500));
    await client.writeOutput('r.txt', 'y'.repeat(500));
    expect(await readFile(join(h.outputs(), 'r.txt'), 'utf8')).toBe('y'.repeat(500));
    // 500 bytes stored of 1000: another 400 fits only if the first was not counted twice.
    await expect(client.writeOutput('s.txt', 'z'.repeat(400))).resolves.toMatchObject({ size: 400 });
  });

  it('stores one output when a write is retried with the same idempotency key', async () => {
    const h = await start();
    const client = h.client();
    const first = await client.writeOutput('once.txt', 'same content', { idempotencyKey: 'k-1' });
    const again = await client.writeOutput('once.txt', 'same content', { idempotencyKey: 'k-1' });
    expect(again).toEqual({ ...first, replayed: true });
    expect(await h.outputNames()).toEqual(['once.txt']);
    expect(await h.temporaries()).toEqual([]);

    const other = await client.writeOutput('once.txt', 'other content', { idempotencyKey: 'k-1' }).catch((e: unknown) => e);
    expect(other).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'head.idempotency_key',
      message: 'idempotency key was already used for output "once.txt" with other content',
    });
    expect(await readFile(join(h.outputs(), 'once.txt'), 'utf8')).toBe('same content');
  });

  it.each([
    ['../escape', 'output name "../escape" holds "/": an output name is one file name, not a path'],
    ['a/b', 'output name "a/b" holds "/": an output name is one file name, not a path'],
    ['a\\b', 'output name "a\\\\b" holds "\\\\": an output name is one file name, not a path'],
    ['.profile', 'output name ".profile" starts with a dot'],
    ['', 'output name "" is empty'],
    ['x'.repeat(129), `output name "${'x'.repeat(129)}" is 129 characters, at most 128 are allowed`],
    ['with space', 'output name "with space" holds " "; only A-Z a-z 0-9 . _ - are allowed'],
    ['nul\0byte', 'output name "nul\\u0000byte" holds "\\u0000"; only A-Z a-z 0-9 . _ - are allowed'],
    ['évident', 'output name "évident" holds "é"; only A-Z a-z 0-9 . _ - are allowed'],
    ['CON', 'output name "CON" is a reserved device name'],
    ['nul.txt', 'output name "nul.txt" is a reserved device name'],
    ['Com1.log', 'output name "Com1.log" is a reserved device name'],
  ])('refuses the name %j and stores nothing', async (name, message) => {
    const h = await start();
    const error = await h.client().writeOutput(name, 'data').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'head.name', message });
    expect(await h.outputNames()).toEqual([]);
    expect(await h.temporaries()).toEqual([]);
  });

  it.each([
    ['one output over its size limit', 'big.bin', 'a'.repeat(601), {}, 'TOO_LARGE', undefined, 'output is over the 600-byte limit for one output'],
    ['an expected size over the limit', 'big.bin', 'a', { expectedSize: 601 }, 'TOO_LARGE', 'head.expected_size', 'expected size 601 is over the 600-byte limit for one output'],
    ['fewer bytes than expected', 'short.bin', 'abc', { expectedSize: 4 }, 'INVALID_ARGUMENT', 'head.expected_size', '3 bytes were sent, the head expected 4'],
    ['more bytes than expected', 'long.bin', 'abcde', { expectedSize: 4 }, 'INVALID_ARGUMENT', 'head.expected_size', 'more than the expected 4 bytes were sent'],
    ['an idempotency key over 128 characters', 'k.bin', 'a', { idempotencyKey: 'k'.repeat(129) }, 'INVALID_ARGUMENT', 'head.idempotency_key', 'idempotency key is 129 characters, at most 128'],
  ])('refuses %s and leaves nothing', async (_what, name, data, options, code, field, message) => {
    const h = await start(SMALL_QUOTAS);
    const error = await h.client().writeOutput(name, data, options).catch((e: unknown) => e);
    expect(error).toMatchObject({ code, message, ...(field ? { field } : {}) });
    expect(await h.outputNames()).toEqual([]);
    expect(await h.temporaries()).toEqual([]);
  });

  it('enforces the byte quota across outputs, keeping what was stored', async () => {
    const h = await start(SMALL_QUOTAS);
    const client = h.client();
    await client.writeOutput('a.txt', 'a'.repeat(600));
    const error = await client.writeOutput('b.txt', 'b'.repeat(401)).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      limit: 1000,
      message: "outputs would exceed the sandbox's 1000-byte quota (600 bytes stored)",
    });
    expect(await h.outputNames()).toEqual(['a.txt']);
    await expect(client.writeOutput('b.txt', 'b'.repeat(400))).resolves.toMatchObject({ size: 400 });
  });

  it('enforces the file count quota', async () => {
    const h = await start(SMALL_QUOTAS);
    const client = h.client();
    for (const name of ['1.txt', '2.txt', '3.txt']) await client.writeOutput(name, name);
    const error = await client.writeOutput('4.txt', '4').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      field: 'head.name',
      message: 'the sandbox holds 3 outputs and 0 more are being written, the limit is 3',
    });
    // Replacing an existing output needs no new file.
    await expect(client.writeOutput('3.txt', 'again')).resolves.toMatchObject({ name: '3.txt' });
  });

  it('counts outputs already on disk after a restart, and drops stale temporaries', async () => {
    const h = await start(SMALL_QUOTAS);
    await h.client().writeOutput('kept.txt', 'k'.repeat(400));
    await h.client().writeOutput('kept2.txt', 'k'.repeat(300));
    await h.restart(() => writeFile(join(h.outputs(), '.porthole/tmp/stale-from-crash'), 'partial'));

    expect(await h.temporaries()).toEqual([]);
    const error = await h.client().writeOutput('more.txt', 'm'.repeat(301)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED', message: "outputs would exceed the sandbox's 1000-byte quota (700 bytes stored)" });
    expect(await h.outputNames()).toEqual(['kept.txt', 'kept2.txt']);
  });

  it('refuses a name that differs only in case from a stored output', async () => {
    const h = await start();
    await h.client().writeOutput('Report.txt', 'first');
    const error = await h.client().writeOutput('report.TXT', 'second').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'head.name',
      message: 'output name "report.TXT" differs only in case from the stored output "Report.txt"',
    });
    expect(await h.outputNames()).toEqual(['Report.txt']);
  });

  it('stops writes at the free-space floor of the host disk', async () => {
    const h = await start({ ...SMALL_QUOTAS, minFreeBytes: '1000000GiB' });
    const error = await h.client().writeOutput('a.txt', 'abc').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED', limit: 1000000 * 1024 ** 3 });
    expect((error as Error).message).toMatch(/^the host disk holding outputs has \d+ bytes free, below the 1073741824000000-byte floor$/);
    expect(await h.outputNames()).toEqual([]);
    expect(await h.temporaries()).toEqual([]);
  });

  it('refuses to start on an outputs folder others can write to', async () => {
    const { chmod, mkdir } = await import('node:fs/promises');
    const h = await start();
    await h.restart(async () => {
      await mkdir(h.outputs(), { recursive: true });
      await chmod(h.outputs(), 0o777);
    }).then(() => expect.fail('the host started'), (error: Error) => {
      expect(error.message).toBe(`outputs folder ${h.outputs()} is writable by group or others (mode 777)`);
    });
    await chmod(h.outputs(), 0o750);
    await h.restart();
  });

  it('refuses a stream that does not start with a head', async () => {
    const h = await start();
    const { credentials } = await import('@grpc/grpc-js');
    const { portholeClientClass, PortholeError } = await import('@porthole/shared');
    const Client = portholeClientClass();
    const raw = new Client(h.address(), credentials.createInsecure());
    const error = await new Promise<unknown>((resolve) => {
      const call = raw.writeOutput((e) => resolve(e));
      call.write({ chunk: Buffer.from('no head') });
      call.end();
    });
    raw.close();
    expect(PortholeError.from(error)).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'head', message: 'the first WriteOutput message must be a head' });
    expect(await h.temporaries()).toEqual([]);
  });

  it('audits writes and refusals', async () => {
    const h = await start();
    await h.client().writeOutput('audited.txt', 'abc');
    await h.client().writeOutput('../x', 'abc').catch(() => undefined);
    const entries = (await h.audit()).filter((e) => e.action === 'WriteOutput');
    expect(entries.map(({ target, decision, reason, bytes }) => ({ target, decision, reason, bytes }))).toEqual([
      { target: 'audited.txt', decision: 'allowed', reason: null, bytes: 3 },
      { target: '../x', decision: 'denied', reason: 'INVALID_ARGUMENT', bytes: 0 },
    ]);
  });
});
