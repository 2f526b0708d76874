import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { sandboxEntry, TestHost } from '../support/host-fixture.js';

describe('per-sandbox limits', () => {
  let host: TestHost | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  it('refuses calls past the burst with RATE_LIMITED, and an honest retry-after', async () => {
    host = await TestHost.start({
      sandboxes: [sandboxEntry('alpha', { limits: { requestsPerSecond: 1, burst: 3 } })],
    });
    const client = host.client();
    for (let i = 0; i < 3; i++) await client.listArtifacts();
    const error = await client.listArtifacts().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 1,
      message: 'request rate is over 1/s (burst 3)',
    });
    const retryAfterMs = (error as { retryAfterMs: number }).retryAfterMs;
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(1000);

    await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    await expect(client.listArtifacts()).resolves.toEqual([]);
  });

  it('refuses a call past the concurrency limit instead of queueing it', async () => {
    host = await TestHost.start({
      sandboxes: [sandboxEntry('alpha', { limits: { maxConcurrent: 2, bytesPerSecond: '64KiB' } })],
    });
    await writeFile(join(host.artifacts(), 'slow.bin'), Buffer.alloc(1024 * 1024));
    const client = host.client();
    // Two reads held open by the byte rate occupy both slots.
    const held = [await client.readArtifact('slow.bin'), await client.readArtifact('slow.bin')];
    const error = await client.listArtifacts().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 2,
      retryAfterMs: 50,
      message: '2 calls are in progress, the limit is 2',
    });
    for (const stream of held) stream.destroy();
  });

  it('paces bytes to the sandbox byte rate', async () => {
    host = await TestHost.start({
      sandboxes: [sandboxEntry('alpha', { limits: { bytesPerSecond: '1MiB' } })],
    });
    await writeFile(join(host.artifacts(), 'paced.bin'), Buffer.alloc(1536 * 1024, 1));
    const started = performance.now();
    const data = await host.client().readArtifactBuffer('paced.bin');
    const elapsed = performance.now() - started;
    expect(data.length).toBe(1536 * 1024);
    // 256 KiB pass at once (a quarter-second burst), the other 1.25 MiB at
    // 1 MiB/s: a floor the host must respect, not a speed goal.
    expect(elapsed).toBeGreaterThanOrEqual(1100);
  });
});
