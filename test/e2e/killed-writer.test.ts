import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { eventually, exitOf, nextJsonLine, nodeChild } from '../support/node-child.js';
import { TestHost } from '../support/host-fixture.js';

// An agent that streams an output and never finishes on its own.
const WRITER = `
import { connect } from '@porthole/guest';
const porthole = connect();
async function* forever() {
  for (let i = 0; i < 100_000; i++) {
    yield Buffer.alloc(64 * 1024, i & 0xff);
    if (i === 16) process.stdout.write(JSON.stringify({ sent: (i + 1) * 65536 }) + '\\n');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
await porthole.writeOutput('partial.bin', forever());
`;

describe('a writer killed mid-stream', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await TestHost.start();
  });
  afterAll(() => host.stop());

  it('leaves no output and no temporary file', async () => {
    const writer = nodeChild(WRITER, { PORTHOLE_ADDRESS: host.address() });
    expect(await nextJsonLine(writer)).toEqual({ sent: 17 * 65536 });
    await eventually(async () => (await host.temporaries()).length === 1, 'the write is in progress on the host');

    writer.kill('SIGKILL');
    expect(await exitOf(writer)).toBe('SIGKILL');

    await eventually(async () => (await host.temporaries()).length === 0, 'the host dropped the temporary file');
    expect(await host.outputNames()).toEqual([]);
    const entry = (await host.audit()).find((e) => e.action === 'WriteOutput');
    expect(entry).toMatchObject({ target: 'partial.bin', decision: 'failed', reason: 'UNAVAILABLE' });

    // The sandbox's quota is whole again: a full-size write still fits.
    await expect(host.client().writeOutput('after.bin', Buffer.alloc(1024))).resolves.toMatchObject({ size: 1024 });
  });
});
