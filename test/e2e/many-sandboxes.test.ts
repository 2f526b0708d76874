import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { liveHeapBytes } from '../support/heap.js';
import { sandboxEntry, TestHost } from '../support/host-fixture.js';

const SANDBOXES = 300;
// What the host keeps for one idle sandbox: its policy, listener and
// socket, about 5 KiB. A gRPC server per sandbox made it 12.5 KiB.
const MAX_HEAP_PER_IDLE_SANDBOX = 9 * 1024;

const entries = (count: number): Record<string, unknown>[] =>
  Array.from({ length: count }, (_, i) => sandboxEntry(`s${String(i).padStart(3, '0')}`, {
    fetch: { allow: [{ scheme: 'http', host: '127.0.0.1', port: 9 }] },
  }));

describe('a host with many sandboxes', () => {
  const hosts: TestHost[] = [];
  afterEach(async () => {
    for (const host of hosts.splice(0)) await host.stop();
  });

  it('answers every call under the sandbox of the socket it arrived on', async () => {
    const host = await TestHost.start({ sandboxes: entries(SANDBOXES) });
    hosts.push(host);
    const ids = [...host.service.sandboxes.keys()];
    const clients = new Map(ids.map((id) => [id, host.client(id)]));
    const client = (id: string) => clients.get(id)!;
    // All at once, so calls of many connections are in flight together.
    const answers = await Promise.all(ids.map(async (id) => (await client(id).hello()).sandboxId));
    expect(answers).toEqual(ids);
    // Server- and client-streaming calls too, each to its own folders.
    await Promise.all(ids.map((id) => writeFile(join(host.artifacts(id), 'mine.txt'), id)));
    const read = await Promise.all(ids.map(async (id) => (await client(id).readArtifactBuffer('mine.txt')).toString()));
    expect(read).toEqual(ids);
    await Promise.all(ids.map((id) => client(id).writeOutput('who.txt', id)));
    const written = await Promise.all(ids.map((id) => readFile(join(host.outputs(id), 'who.txt'), 'utf8')));
    expect(written).toEqual(ids);
  });

  it(`holds an idle sandbox in under ${MAX_HEAP_PER_IDLE_SANDBOX / 1024} KiB of heap`, async () => {
    // Code every host runs is compiled once, before anything is counted.
    const warm = await TestHost.start({ sandboxes: entries(10) });
    await warm.stop();

    const before = await liveHeapBytes();
    const host = await TestHost.start({ sandboxes: entries(SANDBOXES) });
    hosts.push(host);
    const perSandbox = (await liveHeapBytes() - before) / SANDBOXES;
    expect(perSandbox).toBeLessThan(MAX_HEAP_PER_IDLE_SANDBOX);
  });
});
