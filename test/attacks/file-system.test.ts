import { link, lstat, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join, relative } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { sandboxEntry, TestHost } from '../support/host-fixture.js';
import { tempDir } from '../support/temp-dir.js';
import { ratioLine } from './figures.js';

// File system: nothing a guest sends becomes a host path, a mode or a link.
// Every output name a hostile guest might try is sent; afterwards every
// entry under the host's folders is listed with its type, mode and owner.

const HOSTILE_NAMES = [
  '../escape', '../../etc/passwd', '/etc/passwd', 'a/b', 'a\\b', '.porthole/tmp/x', '.porthole', '..', '.',
  '.hidden', 'nul\0byte', 'x'.repeat(129), '', ' ', 'new\nline', 'é.txt', 'CON', 'a:b', '*', '%2e%2e%2fx',
  'link.txt', 'ok-name.bin',
];

describe('ATTACK file-system: what a guest can make the host create', () => {
  let host: TestHost | undefined;
  const removals: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    for (const remove of removals.splice(0)) await remove();
  });

  it('creates only 0640 regular files in the outputs folder and follows no planted link', async () => {
    host = await TestHost.start({ sandboxes: [sandboxEntry('alpha')] });
    const outside = await tempDir('outside');
    removals.push(outside.remove);
    const secret = join(outside.path, 'secret.txt');
    await writeFile(secret, 'host secret');

    // Links planted by someone else in the artifacts folder, and a FIFO.
    await symlink(secret, join(host.artifacts(), 'symlink.txt'));
    await symlink(outside.path, join(host.artifacts(), 'dirlink'));
    await link(secret, join(host.artifacts(), 'hardlink.txt'));
    execFileSync('mkfifo', [join(host.artifacts(), 'fifo')]);
    await writeFile(join(host.artifacts(), 'plain.txt'), 'plain');
    // A link left in the outputs folder: a write of that name replaces the
    // link, it does not write through it.
    await symlink(secret, join(host.outputs(), 'link.txt'));

    const client = host.client();
    const outcomes: Record<string, string> = {};
    for (const name of HOSTILE_NAMES) {
      outcomes[JSON.stringify(name)] = await client.writeOutput(name, 'guest bytes', { expectedSize: 11 }).then(
        () => 'stored',
        (e: { code?: string; field?: string }) => `${e.code} ${e.field ?? ''}`.trim(),
      );
    }
    const reads: Record<string, string> = {};
    for (const name of ['symlink.txt', 'dirlink', 'hardlink.txt', 'fifo', 'plain.txt', 'dirlink/secret.txt', '../outputs/ok-name.bin']) {
      reads[name] = await client.readArtifactBuffer(name).then((b) => `read ${b.length} bytes`, (e: { code?: string }) => String(e.code));
    }
    const listed = (await client.listArtifacts()).map((a) => a.name);

    // Everything under the host's temp dir, and what it is.
    const entries = await walk(host.dir);
    const made = entries.filter((e) => e.path.startsWith('alpha/outputs/') && !e.path.includes('.porthole'));
    const uid = process.getuid!();
    console.log(ratioLine('file-system', `${HOSTILE_NAMES.length} hostile names sent, ${Object.values(outcomes).filter((o) => o === 'stored').length} stored; every file the guest caused is a regular 0640 file owned by the host's uid ${uid} inside the outputs folder`, [
      `written: ${made.map((e) => `${e.path} ${e.type} ${e.mode} uid ${e.uid} gid ${e.gid} links ${e.nlink}`).join(', ')}`,
      `host bookkeeping: ${entries.filter((e) => e.path.includes('.porthole')).map((e) => `${e.path} ${e.type} ${e.mode}`).join(', ')}`,
      `refusals: ${Object.entries(outcomes).filter(([, o]) => o !== 'stored').map(([n, o]) => `${n} ${o}`).join(', ')}`,
      `planted in artifacts: ${Object.entries(reads).map(([n, o]) => `${n} ${o}`).join(', ')}; listed ${JSON.stringify(listed)}`,
    ]));

    // Only two names are valid, and they are stored as themselves.
    expect(Object.entries(outcomes).filter(([, o]) => o === 'stored').map(([n]) => n)).toEqual(['"link.txt"', '"ok-name.bin"']);
    expect(made.map((e) => e.path).sort()).toEqual(['alpha/outputs/link.txt', 'alpha/outputs/ok-name.bin']);
    expect(outcomes['"../escape"']).toBe('INVALID_ARGUMENT head.name');
    expect(outcomes['"/etc/passwd"']).toBe('INVALID_ARGUMENT head.name');
    expect(outcomes['".porthole/tmp/x"']).toBe('INVALID_ARGUMENT head.name');
    // The planted output link was replaced, its target untouched.
    expect(await readFile(secret, 'utf8')).toBe('host secret');
    expect((await lstat(join(host.outputs(), 'link.txt'))).isFile()).toBe(true);
    // Nothing planted in artifacts was followed or served.
    expect(reads).toEqual({
      'symlink.txt': 'NOT_FOUND', dirlink: 'NOT_FOUND', 'hardlink.txt': 'NOT_FOUND', fifo: 'NOT_FOUND',
      'plain.txt': 'read 5 bytes', 'dirlink/secret.txt': 'INVALID_ARGUMENT', '../outputs/ok-name.bin': 'INVALID_ARGUMENT',
    });
    expect(listed).toEqual(['plain.txt']);

    for (const entry of made) {
      expect(entry).toMatchObject({ type: 'file', mode: '0640', uid, nlink: 1 });
    }
    // No set-id, sticky or execute bit, device, socket, FIFO or link
    // anywhere the host wrote, bookkeeping included.
    for (const entry of entries.filter((e) => e.path.startsWith('alpha/outputs'))) {
      expect(['file', 'dir']).toContain(entry.type);
      expect(Number.parseInt(entry.mode, 8) & 0o7000).toBe(0);
      if (entry.type === 'file') expect(Number.parseInt(entry.mode, 8) & 0o111).toBe(0);
    }
    // Nothing new outside the outputs folder but the host's own files.
    const elsewhere = entries.filter((e) => !e.path.startsWith('alpha/') && e.path !== 'alpha' && e.path !== 'audit.jsonl' && !e.path.startsWith('run'));
    expect(elsewhere).toEqual([]);
    expect((await readdir(outside.path)).sort()).toEqual(['secret.txt']);
  });
});

interface Entry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'device';
  mode: string;
  uid: number;
  gid: number;
  nlink: number;
}

async function walk(root: string, dir = root, out: Entry[] = []): Promise<Entry[]> {
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const stats = await lstat(path);
    const type = stats.isFile() ? 'file' : stats.isDirectory() ? 'dir' : stats.isSymbolicLink() ? 'symlink'
      : stats.isFIFO() ? 'fifo' : stats.isSocket() ? 'socket' : 'device';
    out.push({ path: relative(root, path), type, mode: (stats.mode & 0o7777).toString(8).padStart(4, '0'), uid: stats.uid, gid: stats.gid, nlink: stats.nlink });
    if (type === 'dir') await walk(root, path, out);
  }
  return out;
}

