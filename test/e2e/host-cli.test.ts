import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connect } from '@porthole/guest';

import { eventually, exitOf, nextJsonLine, ROOT } from '../support/node-child.js';
import { tempDir } from '../support/temp-dir.js';

const HOST_BIN = join(ROOT, 'packages/host/bin/porthole-host.js');

const VALID = `audit: { path: audit.jsonl }
sandboxes:
  - id: agent-1
    listen: { udsPath: run/agent-1.vsock }
    artifacts: data
    outputs: { dir: out, maxBytes: 1GiB, maxFiles: 100, maxFileBytes: 256MiB }
    fetch:
      allow:
        - { scheme: https, host: api.example.test, pathPrefix: /v1/, methods: [GET, POST] }
`;

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [HOST_BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('porthole-host check', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    dir = await tempDir('config');
    await mkdir(join(dir.path, 'data'));
  });
  afterAll(() => dir.remove());

  /** What check prints for a config the schema accepts but serve would refuse. */
  function cannotServe(name: string, issues: string[]): ReturnType<typeof run> {
    const lines = issues.map((issue) => `  ${issue}\n`).join('');
    return { status: 1, stdout: '', stderr: `porthole-host: config ${join(dir.path, name)} cannot be served\n${lines}` };
  }

  async function check(name: string, text: string): Promise<ReturnType<typeof run>> {
    const file = join(dir.path, name);
    await writeFile(file, text);
    return run(['check', '--config', file]);
  }

  it('accepts a valid YAML config', async () => {
    expect(await check('ok.yaml', VALID)).toEqual({ status: 0, stdout: 'config ok: 1 sandbox(es): agent-1\n', stderr: '' });
  });

  it('accepts the same config as JSON', async () => {
    const json = JSON.stringify({
      audit: { path: 'audit.jsonl' },
      sandboxes: [{ id: 'agent-1', listen: { udsPath: 'run/a.vsock', port: 1024 } }],
    });
    expect((await check('ok.json', json)).status).toBe(0);
  });

  it.each([
    ['a hostname with a scheme', VALID.replace('host: api.example.test', 'host: "https://api.example.test"'),
      'sandboxes[0].fetch.allow[0].host: expected a hostname, "*.domain" or an IP address, without scheme, port or path'],
    ['a size with an unknown unit', VALID.replace('maxBytes: 1GiB', 'maxBytes: 10 parsecs'),
      'sandboxes[0].outputs.maxBytes: expected a size in bytes such as 1048576 or "1MiB", got "10 parsecs"'],
    ['a negative file count', VALID.replace('maxFiles: 100', 'maxFiles: -1'),
      'sandboxes[0].outputs.maxFiles: Too small: expected number to be >=1'],
    ['an unknown method', VALID.replace('[GET, POST]', '[GET, FETCH]'),
      'sandboxes[0].fetch.allow[0].methods[1]: Invalid option: expected one of "GET"|"HEAD"|"POST"|"PUT"|"PATCH"|"DELETE"|"OPTIONS"'],
    ['an unknown key', VALID.replace('artifacts: data', 'artifact: data'),
      'sandboxes[0]: Unrecognized key: "artifact"'],
    ['a bad sandbox id', VALID.replace('id: agent-1', 'id: "Agent 1"'),
      'sandboxes[0].id: expected 1 to 63 characters of a-z 0-9 _ -, starting with a letter or digit'],
    ['a path prefix without a slash', VALID.replace('pathPrefix: /v1/', 'pathPrefix: v1'),
      'sandboxes[0].fetch.allow[0].pathPrefix: must start with "/"'],
    ['too many redirects', VALID.replace('      allow:', '      maxRedirects: 9\n      allow:'),
      'sandboxes[0].fetch.maxRedirects: Too big: expected number to be <=5'],
    ['no sandboxes', 'audit: { path: a.jsonl }\nsandboxes: []\n', 'sandboxes: at least one sandbox is needed'],
    ['no audit path', 'sandboxes: []\n', 'audit: is required (object)'],
    ['two sandboxes with one id', `${VALID}  - id: agent-1\n    listen: { udsPath: run/other.vsock }\n`,
      'sandboxes[1].id: id "agent-1" is already used by sandboxes[0]'],
    ['two sandboxes on one socket', `${VALID}  - id: agent-2\n    listen: { udsPath: run/agent-1.vsock }\n`,
      'sandboxes[1].listen: socket "run/agent-1.vsock_52" is already used by sandboxes[0]'],
    ['YAML that does not parse, showing where', 'sandboxes: [\n',
      '(file): is not valid YAML or JSON: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1:\n      sandboxes: [\n      ^\n'],
    ['a host with a port', VALID.replace('host: api.example.test', 'host: "127.0.0.1:8080"'),
      'sandboxes[0].fetch.allow[0].host: expected a hostname, "*.domain" or an IP address, without scheme, port or path'],
    ['a missing required size', VALID.replace('maxBytes: 1GiB, ', ''),
      'sandboxes[0].outputs.maxBytes: is required: a size in bytes such as 1048576 or "1MiB"'],
    ['an artifacts folder that does not exist', VALID.replace('artifacts: data', 'artifacts: no-such-folder'),
      'sandboxes[0].artifacts: folder'],
    ['an audit log in a folder that does not exist', VALID.replace('path: audit.jsonl', 'path: nowhere/audit.jsonl'),
      'audit.path: folder'],
  ])('refuses %s, naming the field', async (_what, text, issue) => {
    const result = await check('bad.yaml', text);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`invalid config ${join(dir.path, 'bad.yaml')}`);
    expect(result.stderr).toContain(`  ${issue}`);
  });

  it('names what serve would refuse: a secret not set, an outputs folder others can write', async () => {
    await mkdir(join(dir.path, 'open-out'), { mode: 0o777 });
    await chmod(join(dir.path, 'open-out'), 0o777);
    const text = VALID
      .replace('dir: out,', 'dir: open-out,')
      .replace('methods: [GET, POST] }', 'methods: [GET, POST], inject: [{ header: Authorization, from: { env: PORTHOLE_TEST_UNSET_TOKEN } }] }');
    expect(await check('preflight.yaml', text)).toEqual(cannotServe('preflight.yaml', [
      'sandboxes[0].fetch.allow[0].inject[0].from.env: environment variable PORTHOLE_TEST_UNSET_TOKEN is not set',
      `sandboxes[0].outputs.dir: outputs folder ${join(dir.path, 'open-out')} is writable by group or others (mode 777)`,
    ]));
  });

  it('names a file standing where serve would make a folder, for outputs and for sockets', async () => {
    await writeFile(join(dir.path, 'a-file'), 'not a folder');
    const text = VALID
      .replace('dir: out,', 'dir: a-file,')
      .replace('udsPath: run/agent-1.vsock', 'udsPath: a-file/run/agent-1.vsock');
    expect(await check('in-the-way.yaml', text)).toEqual(cannotServe('in-the-way.yaml', [
      `sandboxes[0].outputs.dir: ${join(dir.path, 'a-file')} is not a folder`,
      `sandboxes[0].listen.udsPath: the socket ${join(dir.path, 'a-file/run/agent-1.vsock_52')} cannot be made: ${join(dir.path, 'a-file')} is not a folder`,
    ]));
  });

  it('prints its version', () => {
    expect(run(['--version'])).toEqual({ status: 0, stdout: expect.stringMatching(/^porthole-host \d+\.\d+\.\d+\n$/), stderr: '' });
  });

  it('refuses a file that does not exist', () => {
    const result = run(['check', '--config', join(dir.path, 'missing.yaml')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('  (file): cannot be read: ENOENT');
  });

  it.each([
    [[], 'a command is needed'],
    [['serve'], '--config FILE is needed'],
    [['launch', '--config', 'x'], 'unknown command "launch"'],
    [['check', '--confg', 'x'], 'porthole-host: unknown option "--confg"\n'],
    [['check', '--config', '-x.yaml'], 'porthole-host: --config needs a value; one starting with "-" is written --config=VALUE\n'],
  ])('exits 2 on usage error %j', (args, message) => {
    const result = run(args);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('usage: porthole-host serve --config FILE');
  });
});

describe('porthole-host serve', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    dir = await tempDir('serve');
    await mkdir(join(dir.path, 'data'));
    await writeFile(join(dir.path, 'host.yaml'), VALID.replace(/\s+fetch:[\s\S]*$/, '\n'));
  });
  afterAll(() => dir.remove());

  it('refuses to take over the socket of a host still serving it, which keeps serving', async () => {
    const first = spawn(process.execPath, [HOST_BIN, 'serve', '--config', join(dir.path, 'host.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const ready = await nextJsonLine(first);
      const socket = (ready.sockets as Record<string, string>)['agent-1']!;
      const porthole = connect({ address: `unix:${socket}` });
      try {
        // A write in progress while the second host starts: its temporary
        // file in the outputs folder must outlive the second host.
        let finish!: () => void;
        const finished = new Promise<void>((resolve) => (finish = resolve));
        let sentFirst!: () => void;
        const firstSent = new Promise<void>((resolve) => (sentFirst = resolve));
        const write = porthole.writeOutput('in-flight.txt', (async function* () {
          yield 'part 1, ';
          sentFirst();
          await finished;
          yield 'part 2';
        })());
        await firstSent;
        const tmp = join(dir.path, 'out/.porthole/tmp');
        await eventually(async () => (await readdir(tmp)).length === 1, 'the write has its temporary file');

        const second = run(['serve', '--config', join(dir.path, 'host.yaml')]);
        expect(second.status).toBe(1);
        expect(second.stderr).toBe(`porthole-host: cannot serve ${join(dir.path, 'host.yaml')}: ${socket} is in use: another process listens on it (a second host on the same config?)\n`);

        finish();
        expect(await write).toMatchObject({ name: 'in-flight.txt', size: 14 });
        expect(await readFile(join(dir.path, 'out/in-flight.txt'), 'utf8')).toBe('part 1, part 2');
        expect((await porthole.hello()).sandboxId).toBe('agent-1');
      } finally {
        porthole.close();
      }
    } finally {
      first.kill('SIGTERM');
      await exitOf(first);
    }
  });

  it('replaces a socket file left by a host that was killed', async () => {
    const killed = spawn(process.execPath, [HOST_BIN, 'serve', '--config', join(dir.path, 'host.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    await nextJsonLine(killed);
    killed.kill('SIGKILL');
    await exitOf(killed);

    const next = spawn(process.execPath, [HOST_BIN, 'serve', '--config', join(dir.path, 'host.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      expect(await nextJsonLine(next)).toMatchObject({ ready: true });
    } finally {
      next.kill('SIGTERM');
      await exitOf(next);
    }
  });
});
