import { credentials } from '@grpc/grpc-js';
import { portholeClientClass, PortholeError, type wire } from '@porthole/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sandboxEntry, TestHost } from '../support/host-fixture.js';

describe('Hello', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await TestHost.start({
      sandboxes: [
        sandboxEntry('alpha', {
          fetch: { allow: [{ scheme: 'https', host: 'api.example.test' }], maxResponseBytes: '8MiB' },
          limits: { requestsPerSecond: 100, burst: 200, maxConcurrent: 4, bytesPerSecond: '32MiB' },
        }),
        { id: 'bare', listen: { udsPath: 'run/bare.vsock', port: 52 } },
      ],
    });
  });
  afterAll(() => host.stop());

  it('reports the sandbox the socket belongs to, its actions and its limits', async () => {
    const hello = await host.client('alpha').hello();
    expect(hello).toMatchObject({
      protocolVersion: '1.0',
      sandboxId: 'alpha',
      actions: ['FETCH_URL', 'LIST_ARTIFACTS', 'READ_ARTIFACT', 'WRITE_OUTPUT'],
      limits: {
        maxResponseBodyBytes: 8 * 1024 * 1024,
        chunkBytes: 65536,
        outputQuotaBytes: 64 * 1024 * 1024,
        outputQuotaFiles: 100,
        outputMaxFileBytes: 16 * 1024 * 1024,
        requestsPerSecond: 100,
        requestBurst: 200,
        maxConcurrentCalls: 4,
        bytesPerSecond: 32 * 1024 * 1024,
        fetchTimeoutMs: 30_000,
        maxRedirects: 5,
      },
    });
  });

  it('reports no actions for a sandbox with nothing enabled, and refuses each', async () => {
    const bare = host.client('bare');
    expect((await bare.hello()).actions).toEqual([]);
    await expect(bare.listArtifacts()).rejects.toMatchObject({ code: 'POLICY_DENIED', message: 'artifacts are not enabled for sandbox bare' });
    await expect(bare.writeOutput('a.txt', 'x')).rejects.toMatchObject({ code: 'POLICY_DENIED', message: 'outputs are not enabled for sandbox bare' });
    await expect(bare.fetch('https://api.example.test/')).rejects.toMatchObject({ code: 'POLICY_DENIED', message: 'fetch is not enabled for sandbox bare' });
  });

  it('refuses a protocol major version it does not speak, naming the field', async () => {
    const Client = portholeClientClass();
    const raw = new Client(host.address().replace(/^unix:/, 'unix:'), credentials.createInsecure());
    const error = await new Promise<unknown>((resolve) => {
      raw.hello({ sdkVersion: 'test', protocolMajor: 2 } satisfies wire.HelloRequest, (e) => resolve(e));
    });
    raw.close();
    const failure = PortholeError.from(error);
    expect({ code: failure.code, field: failure.field, message: failure.message }).toEqual({
      code: 'INVALID_ARGUMENT',
      field: 'protocol_major',
      message: 'protocol major version 2 is not served; this host speaks 1',
    });
  });

  it('fails with UNAVAILABLE when nothing listens at the address', async () => {
    const { connect } = await import('@porthole/guest');
    const client = connect({ address: `unix:${host.dir}/nothing-here.sock` });
    await expect(client.hello()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    client.close();
  });
  it('keeps the first answer for the connection, and asks again on refresh', async () => {
    const client = host.client('alpha');
    const hellos = async (): Promise<number> => (await host.audit()).filter((e) => e.action === 'Hello').length;
    const before = await hellos();
    const first = await client.hello();
    expect(await client.hello()).toBe(first);
    expect(await hellos()).toBe(before + 1);
    const fresh = await client.hello({ refresh: true });
    expect(fresh).not.toBe(first);
    expect(fresh.sandboxId).toBe('alpha');
    expect(await hellos()).toBe(before + 2);
  });
});
