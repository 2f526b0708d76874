import { createHash, randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { dialingTransport, Porthole, PortholeError, type RetryOptions } from '@porthole/guest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { CutProxy } from '../support/cut-proxy.js';
import { TestHost } from '../support/host-fixture.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

// Reads resume, safe calls retry and writes land once when the connection to
// the host is reset mid-call, as a VMM restart or snapshot restore does to
// vsock. The SDK reaches the host through a proxy the test cuts, over the
// same dialing connector the SDK uses for vsock: (here dialing a Unix socket).
describe('reconnection after a reset connection', () => {
  let host: TestHost;
  let proxy: CutProxy;
  const data = randomBytes(8 * MiB);
  const clients: Porthole[] = [];

  const client = (retry?: RetryOptions): Porthole => {
    const dial = async (): Promise<Socket> => {
      const socket = netConnect(proxy.path);
      await once(socket, 'connect');
      return socket;
    };
    const porthole = new Porthole(retry ? { retry } : {}, dialingTransport(dial));
    clients.push(porthole);
    return porthole;
  };

  beforeAll(async () => {
    host = await TestHost.start();
    await writeFile(join(host.artifacts(), 'data.bin'), data);
    proxy = await CutProxy.start(host.service.sockets.get('alpha')!, join(host.dir, 'proxy.sock'));
  });

  afterEach(() => {
    proxy.down = false;
    proxy.cuts = 0;
    for (const porthole of clients.splice(0)) porthole.close();
  });

  afterAll(async () => {
    await proxy.close();
    await host.stop();
  });

  it('runs every action over a dialed socket (the vsock connector path)', async () => {
    const porthole = client();
    expect((await porthole.hello()).sandboxId).toBe('alpha');
    expect((await porthole.listArtifacts()).map((a) => a.name)).toEqual(['data.bin']);
    expect(sha256(await porthole.readArtifactBuffer('data.bin'))).toBe(sha256(data));
  });

  it('retries listings with backoff while the host is away, and gives up when told to', async () => {
    const porthole = client();
    await porthole.hello();
    proxy.cutAll();
    proxy.down = true;
    const before = proxy.accepted;
    setTimeout(() => (proxy.down = false), 600);
    expect((await porthole.listArtifacts()).length).toBe(1);
    expect(proxy.accepted - before).toBeGreaterThan(1);

    const once = client({ attempts: 1 });
    proxy.down = true;
    await expect(once.listArtifacts()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('resumes a read at the byte reached, verified by sha256', async () => {
    const porthole = client();
    await porthole.hello();
    proxy.cutOnce({ direction: 'toGuest', afterBytes: 3 * MiB });
    const before = proxy.accepted;
    const read = await porthole.readArtifactBuffer('data.bin');
    expect(read.length).toBe(data.length);
    expect(sha256(read)).toBe(sha256(data));
    expect(proxy.cuts).toBe(1);
    expect(proxy.accepted - before).toBe(1);
  });

  it('stores a write cut in the middle exactly once', async () => {
    const porthole = client();
    await porthole.hello();
    proxy.cutOnce({ direction: 'toHost', afterBytes: 3 * MiB });
    const before = proxy.accepted;
    const stored = await porthole.writeOutput('cut-mid.bin', data);
    expect(stored).toMatchObject({ size: data.length, sha256: sha256(data), replayed: false });
    expect(await host.outputNames()).toContain('cut-mid.bin');
    expect(proxy.accepted - before).toBe(1);
    expect(await host.temporaries()).toEqual([]);
  });

  it('answers a write whose reply was lost from the first commit (same key, one output)', async () => {
    const porthole = client();
    await porthole.hello();
    proxy.cutOnce({ direction: 'toGuest', containing: 'cut-reply.bin' });
    const stored = await porthole.writeOutput('cut-reply.bin', data, { idempotencyKey: 'reply-lost-1' });
    expect(stored).toMatchObject({ size: data.length, sha256: sha256(data), replayed: true });
    const writes = (await host.audit()).filter((e) => e.action === 'WriteOutput' && e.target === 'cut-reply.bin');
    expect(writes.length).toBe(2);
    expect(proxy.cuts).toBe(1);
  });

  it('retries a GET fetch that never started, never a POST', async () => {
    const porthole = client();
    await porthole.hello();
    proxy.cutAll();
    proxy.down = true;
    let before = proxy.accepted;
    const post = await porthole.fetch('http://127.0.0.1:9/', { method: 'POST', body: 'x' }).catch((e: unknown) => e);
    expect(post, String(post)).toMatchObject({ code: 'UNAVAILABLE' });
    // One try at most (grpc-js may fail it on the dropped channel at once).
    expect(proxy.accepted - before).toBeLessThanOrEqual(1);

    before = proxy.accepted;
    setTimeout(() => (proxy.down = false), 600);
    // The host answers once reached: this sandbox has no fetch policy.
    const error = await porthole.fetch('http://127.0.0.1:9/').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortholeError);
    expect((error as PortholeError).code).toBe('POLICY_DENIED');
    expect(proxy.accepted - before).toBeGreaterThan(1);
  });

  it('refuses retry options out of range when the client is built', () => {
    expect(() => client({ attempts: 0 })).toThrow(/retry.attempts must be an integer from 1 to 100/);
  });
});
