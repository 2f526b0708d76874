import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exitOf, nextJsonLine, nodeChild, ROOT } from '../support/node-child.js';
import { tempDir } from '../support/temp-dir.js';

const TOTAL = 1000;
const GUESTS = 4;
const KILL_AFTER_ACKS = 300;

/** The bytes of output number i: regenerated here to check what is on disk. */
function content(i: number): Buffer {
  const data = Buffer.alloc(1024 + ((i * 7919) % 60_000));
  for (let j = 0; j < data.length; j++) data[j] = (i * 31 + j * 7) & 0xff;
  return data;
}
const CONTENT_SOURCE = content.toString();

// A guest writing its share of outputs, four at a time, printing one line
// per acknowledged write. It stops at the first failure (the host died).
const GUEST = `
import { connect } from '@porthole/guest';
const content = ${CONTENT_SOURCE};
const [first, count] = JSON.parse(process.env.RANGE);
const skip = new Set(JSON.parse(process.env.SKIP ?? '[]'));
const porthole = connect();
let next = first;
async function worker() {
  while (next < first + count) {
    const i = next++;
    if (skip.has(i)) continue;
    const stored = await porthole.writeOutput('out-' + i + '.bin', content(i), { idempotencyKey: 'k' + i });
    process.stdout.write(JSON.stringify({ i, sha256: stored.sha256, size: stored.size }) + '\\n');
  }
}
await Promise.all([worker(), worker(), worker(), worker()]).catch((e) => {
  process.stderr.write(String(e.code ?? e.message) + '\\n');
  process.exitCode = 3;
});
porthole.close();
`;

function config(maxFiles: number): string {
  return `audit: { path: audit.jsonl }
logLevel: warn
sandboxes:
  - id: crash
    listen: { udsPath: crash.vsock, port: 52 }
    outputs: { dir: outputs, maxBytes: 1GiB, maxFiles: ${maxFiles}, maxFileBytes: 1MiB }
    limits: { requestsPerSecond: 100000, burst: 100000, maxConcurrent: 64, bytesPerSecond: 4GiB }
`;
}

describe('a host killed in the middle of 1000 writes', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let host: ChildProcess | undefined;
  beforeAll(async () => {
    dir = await tempDir('crash');
  });
  afterAll(async () => {
    host?.kill('SIGKILL');
    await dir.remove();
  });

  async function startHost(maxFiles: number): Promise<string> {
    await writeFile(join(dir.path, 'host.yaml'), config(maxFiles));
    host = spawn(process.execPath, [join(ROOT, 'packages/host/bin/porthole-host.js'), 'serve', '--config', join(dir.path, 'host.yaml')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = await nextJsonLine(host);
    return `unix:${(ready.sockets as Record<string, string>).crash}`;
  }

  /** Runs the guests; resolves with every acknowledged write once all have exited. */
  async function runGuests(address: string, skip: number[], onAck?: (count: number) => void): Promise<Map<number, string>> {
    const acks = new Map<number, string>();
    const share = TOTAL / GUESTS;
    const guests = Array.from({ length: GUESTS }, (_, g) =>
      nodeChild(GUEST, { PORTHOLE_ADDRESS: address, RANGE: JSON.stringify([g * share, share]), SKIP: JSON.stringify(skip) }));
    await Promise.all(guests.map(async (guest) => {
      for await (const line of createInterface({ input: guest.stdout! })) {
        const ack = JSON.parse(line) as { i: number; sha256: string };
        acks.set(ack.i, ack.sha256);
        onAck?.(acks.size);
      }
      await exitOf(guest, 60_000);
    }));
    return acks;
  }

  async function visibleOutputs(): Promise<string[]> {
    return (await readdir(join(dir.path, 'outputs'))).filter((name) => name !== '.porthole');
  }

  it('keeps every acknowledged output whole, shows nothing partial, and counts quotas from disk', async () => {
    const address = await startHost(TOTAL + 10);
    const killed = runGuests(address, [], (count) => {
      if (count === KILL_AFTER_ACKS) host!.kill('SIGKILL');
    });
    const acked = await killed;
    await exitOf(host!);
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(acked.size).toBeLessThan(TOTAL);

    // Before any restart: what a crash left on disk.
    const afterCrash = await visibleOutputs();
    for (const [i, sha] of acked) {
      const data = await readFile(join(dir.path, 'outputs', `out-${i}.bin`));
      expect(createHash('sha256').update(data).digest('hex')).toBe(sha);
    }
    // Outputs stored but not yet acknowledged when the host died are whole too.
    for (const name of afterCrash) {
      const i = Number(/^out-(\d+)\.bin$/.exec(name)?.[1]);
      expect((await readFile(join(dir.path, 'outputs', name))).equals(content(i))).toBe(true);
    }

    // Restart with a file quota of exactly what is stored plus one.
    const stored = afterCrash.length;
    const again = await startHost(stored + 1);
    expect(await readdir(join(dir.path, 'outputs/.porthole/tmp'))).toEqual([]);
    const probe = nodeChild(`
      import { connect } from '@porthole/guest';
      const p = connect();
      const first = await p.writeOutput('probe-1.txt', 'x').then(() => 'ok', (e) => e.code);
      const second = await p.writeOutput('probe-2.txt', 'x').then(() => 'ok', (e) => e.message);
      p.close();
      process.stdout.write(JSON.stringify({ first, second }) + '\\n');
    `, { PORTHOLE_ADDRESS: again });
    expect(await nextJsonLine(probe)).toEqual({
      first: 'ok',
      second: `the sandbox holds ${stored + 1} outputs and 0 more are being written, the limit is ${stored + 1}`,
    });
    await exitOf(probe);
    host!.kill('SIGTERM');
    await once(host!, 'exit');

    // Finish the job: the guests write what is missing, and all 1000 are whole.
    const done = await startHost(TOTAL + 10);
    const present = new Set((await visibleOutputs()).map((n) => Number(/^out-(\d+)/.exec(n)?.[1])));
    await runGuests(done, [...present]);
    const final = (await visibleOutputs()).filter((n) => n.startsWith('out-'));
    expect(final.length).toBe(TOTAL);
    for (const name of final) {
      const i = Number(/^out-(\d+)\.bin$/.exec(name)?.[1]);
      expect((await readFile(join(dir.path, 'outputs', name))).equals(content(i))).toBe(true);
    }
    host!.kill('SIGTERM');
    await once(host!, 'exit');
    host = undefined;
  }, 120_000);
});
