import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { sandboxEntry, TestHost } from '../support/host-fixture.js';
import { Upstream } from '../support/upstream.js';

describe('accounting and shared limits', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(options: Parameters<typeof TestHost.start>[0]): Promise<TestHost> {
    const host = await TestHost.start(options);
    cleanups.push(() => host.stop());
    return host;
  }

  it('counts calls, bytes each way, upstream time and CPU per sandbox, in the API and the audit log', async () => {
    const api = await new Upstream({ '/v1/slow': (_req, res) => setTimeout(() => res.end('x'.repeat(1000)), 50) }).listen();
    cleanups.push(() => api.close());
    const h = await start({
      sandboxes: [
        sandboxEntry('alpha', { fetch: { allow: [{ scheme: 'http', host: '127.0.0.1', port: api.port, methods: ['POST'] }] } }),
        sandboxEntry('beta'),
      ],
      limits: { cpuAccounting: true },
    });
    await writeFile(join(h.artifacts(), 'a.bin'), Buffer.alloc(100_000, 1));
    const alpha = h.client('alpha');
    await alpha.readArtifactBuffer('a.bin');
    await alpha.writeOutput('o.bin', Buffer.alloc(50_000, 2));
    await (await alpha.fetch(`${api.origin}/v1/slow`, { method: 'POST', body: 'hello' })).text();
    await alpha.readArtifact('missing').catch(() => undefined);

    const usage = h.service.usage();
    expect(usage.beta).toEqual({ calls: 0, denied: 0, failed: 0, bytesIn: 0, bytesOut: 0, upstreamMs: 0, cpuMs: 0 });
    expect(usage.alpha).toMatchObject({ calls: 4, denied: 1, failed: 0, bytesIn: 50_005, bytesOut: 101_000 });
    expect(usage.alpha!.upstreamMs).toBeGreaterThanOrEqual(45);
    expect(usage.alpha!.cpuMs).toBeGreaterThan(0);

    const fetchEntry = (await h.audit()).find((e) => e.action === 'FetchUrl');
    expect(fetchEntry).toMatchObject({ bytes: 1005, bytesIn: 5, bytesOut: 1000 });
    expect(fetchEntry!.upstreamMs).toBeGreaterThanOrEqual(45);
    expect(fetchEntry!.cpuMs).toBeGreaterThan(0);
  });

  it('refuses calls once a sandbox spends its CPU budget, with an honest retry-after', async () => {
    const h = await start({ sandboxes: [sandboxEntry('alpha', { limits: { cpuMsPerSecond: 20 } })] });
    const client = h.client();
    // Receiving, hashing and writing 8 MiB costs more than a second's 20 ms.
    const started = performance.now();
    await client.writeOutput('heavy.bin', Buffer.alloc(8 * 1024 * 1024, 3));
    console.log(`8 MiB write: ${(performance.now() - started).toFixed(0)} ms, charged ${h.service.usage().alpha!.cpuMs.toFixed(1)} ms CPU`);
    const error = await client.hello().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', limit: 20, message: 'the sandbox used its host CPU budget of 20 ms per second' });
    const retryAfterMs = (error as { retryAfterMs: number }).retryAfterMs;
    expect(retryAfterMs).toBeGreaterThan(0);

    await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    await expect(client.hello()).resolves.toMatchObject({ sandboxId: 'alpha' });
  });

  it('charges no CPU when cpuAccounting is off, and refuses a CPU budget then', async () => {
    const h = await start({ sandboxes: [sandboxEntry('alpha')], limits: { cpuAccounting: false } });
    await h.client().writeOutput('x.bin', Buffer.alloc(1024 * 1024));
    expect(h.service.usage().alpha).toMatchObject({ calls: 1, bytesIn: 1024 * 1024, cpuMs: 0 });

    const { validateHostConfig } = await import('@porthole/shared');
    const result = validateHostConfig({
      audit: { path: 'a.jsonl' },
      limits: { cpuAccounting: false },
      sandboxes: [{ id: 'a', listen: { udsPath: 'a.vsock' }, limits: { cpuMsPerSecond: 10 } }],
    });
    expect(result).toEqual({ ok: false, issues: [{ path: 'sandboxes[0].limits.cpuMsPerSecond', message: 'a CPU budget needs limits.cpuAccounting to be true' }] });
  });

  it("shares the host's call slots fairly when they run short", async () => {
    const h = await start({
      sandboxes: [
        sandboxEntry('alpha', { limits: { maxConcurrent: 10, bytesPerSecond: '64KiB' } }),
        sandboxEntry('beta'),
      ],
      limits: { maxConcurrentCalls: 4 },
    });
    await writeFile(join(h.artifacts(), 'slow.bin'), Buffer.alloc(1024 * 1024));
    const alpha = h.client('alpha');
    // Byte pacing holds each read open; alpha takes three of four slots.
    const held = [];
    for (let i = 0; i < 3; i++) held.push(await alpha.readArtifact('slow.bin'));
    const refused = await alpha.readArtifact('slow.bin').catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 2,
      message: 'the host is busy and sandbox alpha holds its fair share of 2 calls',
    });
    // The slot alpha was refused is there for beta.
    expect((await h.client('beta').hello()).sandboxId).toBe('beta');
    for (const stream of held) stream.destroy();
  });
});
