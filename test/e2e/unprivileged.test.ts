import { spawn, spawnSync } from 'node:child_process';
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exitOf, nextJsonLine, nodeChild, ROOT } from '../support/node-child.js';
import { tempDir } from '../support/temp-dir.js';

// The conventional unprivileged user; the test needs root only to become it.
const NOBODY = 65534;
const HOST_BIN = join(ROOT, 'packages/host/bin/porthole-host.js');

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'running the host as another user needs the test to run as root';
  // The checkout itself must be readable by that user (a clone under a
  // private home folder is not).
  const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(HOST_BIN)}, 4)`], { uid: NOBODY, gid: NOBODY });
  if (probe.status !== 0) return `uid ${NOBODY} cannot read ${HOST_BIN}`;
  return undefined;
}
const reason = whyNot();
if (reason) console.log(`skipping the unprivileged host test: ${reason}`);

describe.skipIf(reason !== undefined)('the host as an unprivileged user', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    dir = await tempDir('nobody');
    await chmod(dir.path, 0o755);
    // Read-only inputs stay root's; the host's own state folder is its own.
    await mkdir(join(dir.path, 'artifacts'), { mode: 0o755 });
    await writeFile(join(dir.path, 'artifacts/in.txt'), 'readable by all\n', { mode: 0o644 });
    await mkdir(join(dir.path, 'state'), { mode: 0o750 });
    await chown(join(dir.path, 'state'), NOBODY, NOBODY);
    await writeFile(join(dir.path, 'host.yaml'), `audit: { path: state/audit.jsonl }
logLevel: warn
sandboxes:
  - id: plain
    listen: { udsPath: state/plain.vsock }
    artifacts: artifacts
    outputs: { dir: state/outputs, maxBytes: 1MiB, maxFiles: 10, maxFileBytes: 1MiB }
`, { mode: 0o644 });
  });
  afterAll(() => dir.remove());

  it('serves every action with no capability, touching only its own folder', async () => {
    const host = spawn(process.execPath, [HOST_BIN, 'serve', '--config', join(dir.path, 'host.yaml')], {
      uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const ready = await nextJsonLine(host);
      const status = await readFile(`/proc/${host.pid}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(String(NOBODY));
      expect(/^CapEff:\s+(\w+)/m.exec(status)?.[1]).toBe('0000000000000000');
      expect(/^CapPrm:\s+(\w+)/m.exec(status)?.[1]).toBe('0000000000000000');

      const agent = nodeChild(`
        import { connect } from '@porthole/guest';
        const p = connect();
        const read = (await p.readArtifactBuffer('in.txt')).toString();
        const stored = await p.writeOutput('out.txt', 'written by a guest');
        p.close();
        process.stdout.write(JSON.stringify({ read, size: stored.size }) + '\\n');
      `, { PORTHOLE_ADDRESS: `unix:${(ready.sockets as Record<string, string>).plain}` });
      expect(await nextJsonLine(agent)).toEqual({ read: 'readable by all\n', size: 18 });
      await exitOf(agent);

      const output = await stat(join(dir.path, 'state/outputs/out.txt'));
      expect({ uid: output.uid, mode: output.mode & 0o7777 }).toEqual({ uid: NOBODY, mode: 0o640 });
      const socket = await stat((ready.sockets as Record<string, string>).plain!);
      expect({ uid: socket.uid, mode: socket.mode & 0o777 }).toEqual({ uid: NOBODY, mode: 0o660 });
    } finally {
      host.kill('SIGTERM');
      await exitOf(host);
    }
  });
});
