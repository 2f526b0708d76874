import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connect } from '@porthole/guest';

import { sandboxEntry, TestHost } from '../support/host-fixture.js';
import { ROOT } from '../support/node-child.js';
import { Upstream } from '../support/upstream.js';

const CLI = join(ROOT, 'packages/guest/bin/porthole.js');

interface Result { code: number | null; stdout: string; stderr: string }

/** Runs the real CLI as a child process, the way a shell agent would. */
function porthole(args: string[], options: { address?: string; stdin?: string } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    // Empty, not unset: unset would mean the in-VM vsock default.
    env.PORTHOLE_ADDRESS = options.address ?? '';
    const child = spawn(process.execPath, [CLI, ...args], { env, timeout: 20_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (part: Buffer) => (stdout += part.toString()));
    child.stderr.on('data', (part: Buffer) => (stderr += part.toString()));
    child.stdin.end(options.stdin ?? '');
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the porthole CLI', () => {
  let host: TestHost;
  let upstream: Upstream;
  let address: string;

  beforeAll(async () => {
    upstream = await new Upstream({
      '/v1/echo': (req, res, body) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-seen-method': req.method ?? '' });
        res.end(`${req.headers['x-token'] ?? '-'} ${body.toString()}`);
      },
      '/v1/missing': (_req, res) => res.writeHead(404).end('gone'),
      // Part of a body, then the connection is cut.
      '/v1/cut': (_req, res) => {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('partial');
        setTimeout(() => res.destroy(), 50);
      },
    }).listen();
    host = await TestHost.start({
      sandboxes: [sandboxEntry('alpha', {
        fetch: { allow: [{ scheme: 'http', host: '127.0.0.1', port: upstream.port, pathPrefix: '/v1/', methods: ['GET', 'POST'] }] },
      })],
    });
    address = host.address();
    await writeFile(join(host.artifacts(), 'data.txt'), 'line one\nline two\n');
  });
  afterAll(async () => {
    await host.stop();
    await upstream.close();
  });

  it('ls lists artifacts as name and size, or JSON', async () => {
    expect(await porthole(['ls'], { address })).toEqual({ code: 0, stdout: 'data.txt\t18\n', stderr: '' });
    const json = await porthole(['ls', '--json'], { address });
    expect(JSON.parse(json.stdout)).toMatchObject([{ name: 'data.txt', size: 18 }]);
  });

  it('read prints bytes, a range, or writes a file', async () => {
    expect((await porthole(['read', 'data.txt'], { address })).stdout).toBe('line one\nline two\n');
    expect((await porthole(['read', 'data.txt', '--offset', '5', '--length', '3'], { address })).stdout).toBe('one');
    const file = join(host.dir, 'copy.txt');
    expect((await porthole(['read', 'data.txt', '-o', file], { address })).code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe('line one\nline two\n');
  });

  it('write stores stdin or a file and prints what was stored', async () => {
    const fromStdin = await porthole(['write', 'notes.txt'], { address, stdin: 'from stdin' });
    expect(fromStdin.code).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ name: 'notes.txt', size: 10, replayed: false });
    const source = join(host.dir, 'source.txt');
    await writeFile(source, 'from a file');
    expect((await porthole(['write', 'copy.txt', source, '--key', 'k1'], { address })).code).toBe(0);
    const again = await porthole(['write', 'copy.txt', source, '--key', 'k1'], { address });
    expect(JSON.parse(again.stdout)).toMatchObject({ name: 'copy.txt', size: 11, replayed: true });
    expect(await readFile(join(host.outputs(), 'notes.txt'), 'utf8')).toBe('from stdin');
  });

  it('fetch sends method, headers and data, and -i shows the head', async () => {
    const result = await porthole(['fetch', `${upstream.origin}/v1/echo`, '-H', 'X-Token: t1', '-d', 'payload', '-i'], { address });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^HTTP 200\r\n/);
    expect(result.stdout).toContain('x-seen-method: POST\r\n');
    expect(result.stdout.endsWith('\r\n\r\nt1 payload')).toBe(true);
  });

  it('fetch -o and read -o leave an existing file as it was when the transfer fails part way', async () => {
    const folder = join(host.dir, 'kept');
    await mkdir(folder);
    const file = join(folder, 'keep.txt');
    await writeFile(file, 'precious');
    const cut = await porthole(['fetch', `${upstream.origin}/v1/cut`, '-o', file], { address });
    expect(cut.code).not.toBe(0);
    expect(cut.stderr).toMatch(/^porthole: [A-Z_]+: /);
    expect(await readFile(file, 'utf8')).toBe('precious');
    expect(await readdir(folder)).toEqual(['keep.txt']);

    // A whole transfer replaces it.
    expect((await porthole(['read', 'data.txt', '-o', file], { address })).code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe('line one\nline two\n');
    expect(await readdir(folder)).toEqual(['keep.txt']);
  });

  it('a bad header or body is INVALID_ARGUMENT naming the field, from the SDK and the CLI, before any request', async () => {
    const callsBefore = host.service.usage().alpha!.calls;
    const client = connect({ address });
    try {
      await expect(client.fetch(`${upstream.origin}/v1/echo`, { headers: { 'x-a': 'a\r\nb' } }))
        .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'headers', message: expect.stringMatching(/^headers: .*invalid header value/s) });
      await expect(client.fetch(`${upstream.origin}/v1/echo`, { method: 'POST', body: { a: 1 } as unknown as string }))
        .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'body', message: 'body is Object; a fetch body is a string, a Uint8Array or an ArrayBuffer' });
      await expect(client.writeOutput('n.txt', 12345 as unknown as string))
        .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'data', message: expect.stringContaining('it is number; output data is a string, a Uint8Array') });
    } finally {
      client.close();
    }
    const cli = await porthole(['fetch', `${upstream.origin}/v1/echo`, '-H', 'X-Bad: a\nb'], { address });
    expect(cli.code).toBe(13);
    expect(cli.stderr).toMatch(/^porthole: INVALID_ARGUMENT \[headers\]: headers: .*invalid header value/s);
    // The write's call was opened before its data proved unreadable; the fetches never were.
    expect(host.service.usage().alpha!.calls).toBeLessThanOrEqual(callsBefore + 1);
  });

  it('fetch -f exits 3 on an HTTP error status, and 0 without -f', async () => {
    expect(await porthole(['fetch', `${upstream.origin}/v1/missing`], { address })).toMatchObject({ code: 0, stdout: 'gone' });
    const failed = await porthole(['fetch', '-f', `${upstream.origin}/v1/missing`], { address });
    expect(failed).toMatchObject({ code: 3, stdout: 'gone' });
    expect(failed.stderr).toContain('answered HTTP 404');
  });

  it.each([
    ['POLICY_DENIED', 10, ['fetch', 'http://169.254.169.254/latest/meta-data/'], 'porthole: POLICY_DENIED [url]: no fetch rule allows GET http://169.254.169.254/latest/meta-data/\n'],
    ['INVALID_ARGUMENT', 13, ['write', '../escape'], 'porthole: INVALID_ARGUMENT [head.name]: output name "../escape" holds "/": an output name is one file name, not a path\n'],
    ['NOT_FOUND', 14, ['read', 'nope.txt'], 'porthole: NOT_FOUND [name]: no artifact named "nope.txt"\n'],
    ['INVALID_ARGUMENT', 13, ['write', 'sub/dir.txt', CLI], 'porthole: INVALID_ARGUMENT [head.name]: output name "sub/dir.txt" holds "/": an output name is one file name, not a path\n'],
  ])('exits with the code of %s and says why on stderr', async (_reason, code, args, stderr) => {
    expect(await porthole(args, { address })).toEqual({ code, stdout: '', stderr });
  });

  it('exits 18 (UNAVAILABLE) when no host listens', async () => {
    const result = await porthole(['ls'], { address: `unix:${host.dir}/none.sock` });
    expect(result.code).toBe(18);
    expect(result.stderr).toMatch(/^porthole: UNAVAILABLE: .*connect ENOENT \S*none\.sock\.?\n$/);
    expect(result.stderr).not.toContain('Resolution note');
  });

  it('exits 2 without an address, naming the variable', async () => {
    expect(await porthole(['ls'])).toEqual({
      code: 2, stdout: '', stderr: 'porthole: no address: pass --address ADDR or set PORTHOLE_ADDRESS (unix:PATH or vsock:CID:PORT)\n',
    });
  });

  it.each([
    [[], 'usage: porthole [--address ADDR] COMMAND ...'],
    [['frobnicate'], 'porthole: unknown command "frobnicate"\ncommands: hello, ls, read, write, fetch\n'],
    [['read'], 'porthole: read: missing NAME\nusage: porthole [--address ADDR] read NAME [-o FILE] [--offset N] [--length N]\n'],
    [['read', 'a', 'b'], 'porthole: read: unexpected argument "b"\n'],
    [['ls', '--bogus'], 'porthole: ls: unknown option "--bogus"\nusage: porthole [--address ADDR] ls [--json]\n'],
    [['read', 'a', '--offset=1e3'], '--offset "1e3": expected a whole number of bytes'],
    [['read', 'a', '--offset', '-1'], 'porthole: read: --offset needs a value; one starting with "-" is written --offset=VALUE\n'],
    [['fetch', 'http://x/', '-H', 'no-colon'], `-H "no-colon": expected 'Name: value'`],
    [['fetch', 'http://x/', '-d', '@/nonexistent/body'], 'porthole: fetch: -d "/nonexistent/body": cannot be read (ENOENT)\n'],
    [['fetch', 'http://x/', '-o', '/nonexistent/dir/out'], 'porthole: fetch: -o "/nonexistent/dir/out": its folder cannot be written (ENOENT)\n'],
    [['write', 'x.txt', '/nonexistent/file'], 'porthole: write: FILE "/nonexistent/file": cannot be read (ENOENT)\n'],
    [['write', 'x.txt', '/tmp'], 'porthole: write: FILE "/tmp": is a folder, not a file\n'],
    [['fetch', 'http://x/', '-d', '@/tmp'], 'porthole: fetch: -d "/tmp": is a folder, not a file\n'],
    [['read', 'notes.txt', '-o', '/nonexistent/dir/out'], 'porthole: read: -o "/nonexistent/dir/out": its folder cannot be written (ENOENT)\n'],
  ])('exits 2 on usage error %j', async (args, message) => {
    const result = await porthole(args, { address });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
    // A usage error shows the one command's synopsis, not the whole help.
    if (args.length > 0) expect(result.stderr).not.toContain('Exit codes');
  });

  it('prints its version', async () => {
    const result = await porthole(['--version'], { address });
    expect(result).toEqual({ code: 0, stdout: expect.stringMatching(/^porthole \d+\.\d+\.\d+\n$/), stderr: '' });
  });

  it('prints one command\'s usage for COMMAND --help, and exits 0', async () => {
    const result = await porthole(['write', '--help'], { address });
    expect(result).toEqual({
      code: 0,
      stdout: 'usage: porthole [--address ADDR] write NAME [FILE|-] [--content-type T] [--key K]\n  store an output from FILE or stdin\n',
      stderr: '',
    });
  });
});
