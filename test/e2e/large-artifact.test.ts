import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exitOf, nextJsonLine, nodeChild, ROOT } from '../support/node-child.js';
import { tempDir } from '../support/temp-dir.js';

const MiB = 1024 * 1024;
const SIZE = 200 * MiB;
// Both processes hold tens of MiB of code and heap at rest; buffering the
// artifact anywhere would add 200 MiB or more on top.
const RSS_BOUND = 160 * MiB;

// Streams the artifact, hashing as it goes, and reports its own peak RSS.
const READER = `
import { createHash } from 'node:crypto';
import { connect } from '@porthole/guest';
const porthole = connect();
const stream = await porthole.readArtifact('big.bin');
const hash = createHash('sha256');
let bytes = 0;
for await (const chunk of stream) { hash.update(chunk); bytes += chunk.length; }
porthole.close();
process.stdout.write(JSON.stringify({ bytes, sha256: hash.digest('hex'), head: stream.head.sha256, maxRss: process.resourceUsage().maxRSS * 1024 }) + '\\n');
`;

async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kib) * 1024;
}

describe('a 200 MiB artifact', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let expected: string;
  beforeAll(async () => {
    dir = await tempDir('large');
    await mkdir(join(dir.path, 'artifacts'));
    const block = randomBytes(MiB);
    const hash = createHash('sha256');
    const file = await open(join(dir.path, 'artifacts/big.bin'), 'w');
    for (let i = 0; i < SIZE / MiB; i++) {
      block.writeUInt32LE(i, 0);
      hash.update(block);
      await file.write(block);
    }
    await file.close();
    expected = hash.digest('hex');
    await writeFile(join(dir.path, 'host.yaml'), `audit: { path: audit.jsonl }
logLevel: warn
sandboxes:
  - id: big
    listen: { udsPath: big.vsock, port: 52 }
    artifacts: artifacts
    limits: { bytesPerSecond: 4GiB }
`);
  });
  afterAll(() => dir.remove());

  it('streams whole and intact with bounded memory in the host and the guest', async () => {
    const host = spawn(process.execPath, [join(ROOT, 'packages/host/bin/porthole-host.js'), 'serve', '--config', join(dir.path, 'host.yaml')], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const ready = await nextJsonLine(host);
      const socket = (ready.sockets as Record<string, string>).big;
      const reader = nodeChild(READER, { PORTHOLE_ADDRESS: `unix:${socket}` });
      const result = await nextJsonLine(reader, 120_000);
      expect(await exitOf(reader)).toBe(0);
      const hostPeak = await peakRss(host.pid!);

      expect(result).toMatchObject({ bytes: SIZE, sha256: expected, head: expected });
      console.log(`200 MiB read: guest peak RSS ${((result.maxRss as number) / MiB).toFixed(0)} MiB, host peak RSS ${(hostPeak / MiB).toFixed(0)} MiB`);
      expect(result.maxRss).toBeLessThan(RSS_BOUND);
      expect(hostPeak).toBeLessThan(RSS_BOUND);
    } finally {
      host.kill('SIGTERM');
      await exitOf(host);
    }
  });
});
