import { spawn } from 'node:child_process';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { afterEach, describe, expect, it } from 'vitest';

import { sandboxEntry, TestHost } from '../support/host-fixture.js';
import { eventually, exitOf, nextJsonLine, ROOT } from '../support/node-child.js';
import { RawH2 } from '../support/raw-h2.js';
import { tempDir } from '../support/temp-dir.js';
import { Upstream } from '../support/upstream.js';

describe('policy reload', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(sandboxes: Record<string, unknown>[]): Promise<TestHost> {
    const host = await TestHost.start({ sandboxes });
    cleanups.push(() => host.stop());
    return host;
  }

  it('applies a new policy to new calls while calls in progress finish under theirs', async () => {
    const api = await new Upstream({ '/v1/ok': (_req, res) => res.end('ok') }).listen();
    cleanups.push(() => api.close());
    const h = await start([sandboxEntry('alpha', { limits: { bytesPerSecond: '256KiB' } })]);
    await writeFile(join(h.artifacts(), 'data.bin'), Buffer.alloc(512 * 1024, 5));
    const client = h.client();
    await expect(client.fetch(`${api.origin}/v1/ok`)).rejects.toMatchObject({ code: 'POLICY_DENIED' });

    // A read paced over about a second is in progress during the reload.
    const inProgress = await client.readArtifact('data.bin');
    const summary = await h.reload([sandboxEntry('alpha', {
      artifacts: undefined,
      fetch: { allow: [{ scheme: 'http', host: '127.0.0.1', port: api.port }] },
    })]);
    expect(summary).toEqual({ added: [], removed: [], updated: ['alpha'], needsRestart: [] });

    expect(await (await client.fetch(`${api.origin}/v1/ok`)).text()).toBe('ok');
    await expect(client.readArtifact('data.bin')).rejects.toMatchObject({ code: 'POLICY_DENIED', message: 'artifacts are not enabled for sandbox alpha' });
    let bytes = 0;
    for await (const chunk of inProgress as AsyncIterable<Buffer>) bytes += chunk.length;
    expect(bytes).toBe(512 * 1024);
  });

  it('starts sockets for added sandboxes and removes those of removed ones', async () => {
    const h = await start([sandboxEntry('alpha'), sandboxEntry('beta')]);
    const betaSocket = h.service.sockets.get('beta')!;
    expect(await h.reload([sandboxEntry('alpha'), sandboxEntry('gamma')])).toEqual({ added: ['gamma'], removed: ['beta'], updated: ['alpha'], needsRestart: [] });
    expect((await h.client('gamma').hello()).sandboxId).toBe('gamma');
    await expect(access(betaSocket)).rejects.toMatchObject({ code: 'ENOENT' });
    expect([...h.service.sandboxes.keys()].sort()).toEqual(['alpha', 'gamma']);
  });

  it('serves a sandbox under the connection bounds a reload gives it, and its neighbour under its own', async () => {
    const h = await start([sandboxEntry('alpha'), sandboxEntry('beta')]);
    const socket = (id: string): string => h.service.sockets.get(id)!;
    /** Whether a connection that never calls is closed within `ms`. */
    const idleClosed = async (id: string, ms: number): Promise<boolean> => {
      const peer = await RawH2.open(socket(id));
      await Promise.race([peer.closed, new Promise((resolve) => setTimeout(resolve, ms))]);
      const closed = peer.isClosed;
      peer.destroy();
      return closed;
    };

    const short = { idleConnectionMs: 300, keepaliveMs: 3_600_000 };
    expect(await h.reload([sandboxEntry('alpha', { limits: short }), sandboxEntry('beta')])).toMatchObject({ updated: ['alpha', 'beta'] });
    const [alphaClosed, betaClosed] = await Promise.all([idleClosed('alpha', 3_000), idleClosed('beta', 1_000)]);
    expect([alphaClosed, betaClosed]).toEqual([true, false]);
    expect((await h.client('alpha').hello()).sandboxId).toBe('alpha');

    // Back to beta's bounds: alpha is served as beta is again.
    await h.reload([sandboxEntry('alpha'), sandboxEntry('beta')]);
    expect(await idleClosed('alpha', 1_000)).toBe(false);
    expect((await h.client('alpha').hello()).sandboxId).toBe('alpha');
    expect((await h.client('beta').hello()).sandboxId).toBe('beta');
  });

  it('keeps counting quotas across a reload of the same outputs folder', async () => {
    const quotas = { dir: 'alpha/outputs', maxBytes: 1000, maxFiles: 10, maxFileBytes: 1000 };
    const h = await start([sandboxEntry('alpha', { outputs: quotas })]);
    await h.client().writeOutput('a.txt', 'a'.repeat(600));
    await h.reload([sandboxEntry('alpha', { outputs: { ...quotas, maxBytes: 1100 } })]);
    const error = await h.client().writeOutput('b.txt', 'b'.repeat(501)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED', message: "outputs would exceed the sandbox's 1100-byte quota (600 bytes stored)" });
  });

  it('answers Hello on an open connection with the policy in force, before and after a reload', async () => {
    const h = await start([sandboxEntry('alpha', { limits: { requestsPerSecond: 50 } })]);
    const client = h.client();
    // Twice each: an answer is encoded once and then sent as it is.
    for (let i = 0; i < 2; i++) expect((await client.hello({ refresh: true })).limits?.requestsPerSecond).toBe(50);
    await h.reload([sandboxEntry('alpha', { limits: { requestsPerSecond: 70 } })]);
    for (let i = 0; i < 2; i++) expect((await client.hello({ refresh: true })).limits?.requestsPerSecond).toBe(70);
  });

  it('refuses a policy that cannot be built, and the old one stays', async () => {
    const h = await start([sandboxEntry('alpha')]);
    const error = await h.reload([sandboxEntry('alpha', {
      fetch: { allow: [{ scheme: 'https', host: 'api.example.test', inject: [{ header: 'authorization', from: { env: 'PORTHOLE_TEST_UNSET' } }] }] },
    })]).catch((e: unknown) => e);
    expect((error as Error).message).toBe('sandboxes[0].fetch.allow[0].inject[0].from.env: environment variable PORTHOLE_TEST_UNSET is not set');
    expect((await h.client().hello()).actions).toEqual(['LIST_ARTIFACTS', 'READ_ARTIFACT', 'WRITE_OUTPUT']);
  });

  it('refuses a socket path it cannot take before changing any sandbox', async () => {
    const h = await start([sandboxEntry('alpha'), sandboxEntry('beta', { artifacts: undefined })]);
    await writeFile(join(h.dir, 'not-a-folder'), 'a file');
    const error = await h.reload([
      sandboxEntry('alpha', { listen: { udsPath: 'not-a-folder/alpha.vsock', port: 52 } }),
      sandboxEntry('beta'),
    ]).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/not-a-folder\/alpha\.vsock_52: its folder .*not-a-folder cannot be made \((EEXIST|ENOTDIR)\)$/);
    // alpha still answers on its old socket, and beta did not gain artifacts.
    expect((await h.client('alpha').hello()).sandboxId).toBe('alpha');
    expect((await h.client('beta').hello()).actions).toEqual(['WRITE_OUTPUT']);
  });

  it('leaves the quotas as they were when a reload fails', async () => {
    const quotas = { dir: 'alpha/outputs', maxBytes: 1000, maxFiles: 10, maxFileBytes: 1000 };
    const h = await start([sandboxEntry('alpha', { outputs: quotas })]);
    await h.client().writeOutput('a.txt', 'a'.repeat(600));
    await expect(h.reload([sandboxEntry('alpha', {
      outputs: { ...quotas, maxBytes: 5000 },
      fetch: { allow: [{ scheme: 'https', host: 'api.example.test', inject: [{ header: 'x-key', from: { env: 'PORTHOLE_TEST_UNSET' } }] }] },
    })])).rejects.toThrow('environment variable PORTHOLE_TEST_UNSET is not set');
    const error = await h.client().writeOutput('b.txt', 'b'.repeat(500)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED', message: "outputs would exceed the sandbox's 1000-byte quota (600 bytes stored)" });
  });

  it('reloads on SIGHUP, and keeps the old policy when the new file is invalid', async () => {
    const dir = await tempDir('sighup');
    cleanups.push(dir.remove);
    const file = join(dir.path, 'host.yaml');
    const config = (outputs: boolean): string => `audit: { path: audit.jsonl }
logLevel: info
sandboxes:
  - id: live
    listen: { udsPath: live.vsock }
${outputs ? '    outputs: { dir: out, maxBytes: 1MiB, maxFiles: 10, maxFileBytes: 1MiB }\n' : ''}`;
    await writeFile(file, config(false));
    const host = spawn(process.execPath, [join(ROOT, 'packages/host/bin/porthole-host.js'), 'serve', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(async () => {
      host.kill('SIGTERM');
      await exitOf(host);
    });
    const logs: Record<string, unknown>[] = [];
    createInterface({ input: host.stderr! }).on('line', (line) => {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    });
    const ready = await nextJsonLine(host);
    const { connect } = await import('@porthole/guest');
    const client = connect({ address: `unix:${(ready.sockets as Record<string, string>).live}` });
    cleanups.push(async () => client.close());
    await expect(client.writeOutput('early.txt', 'x')).rejects.toMatchObject({ code: 'POLICY_DENIED' });

    await writeFile(file, config(true));
    host.kill('SIGHUP');
    await eventually(async () => logs.some((l) => l.msg === 'config reloaded'), 'the host logged the reload');
    expect((await client.writeOutput('after.txt', 'x')).size).toBe(1);

    await writeFile(file, config(true).replace('maxFiles: 10', 'maxFiles: -3'));
    host.kill('SIGHUP');
    await eventually(async () => logs.some((l) => l.msg === 'config reload refused; the old policy stays'), 'the host refused the reload');
    const refusal = logs.find((l) => l.msg === 'config reload refused; the old policy stays');
    expect(refusal?.issues).toEqual([{ path: 'sandboxes[0].outputs.maxFiles', message: 'Too small: expected number to be >=1' }]);
    expect((await client.writeOutput('still.txt', 'works')).size).toBe(5);
  });
});
