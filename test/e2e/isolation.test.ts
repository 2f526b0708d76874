import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sandboxEntry, TestHost } from '../support/host-fixture.js';

describe('two sandboxes on one host', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await TestHost.start({ sandboxes: [sandboxEntry('alpha'), sandboxEntry('beta')] });
    await writeFile(join(host.artifacts('alpha'), 'alpha-only.txt'), 'for alpha');
    await writeFile(join(host.artifacts('beta'), 'beta-only.txt'), 'for beta');
  });
  afterAll(() => host.stop());

  it('each is identified by the socket it connected to', async () => {
    expect((await host.client('alpha').hello()).sandboxId).toBe('alpha');
    expect((await host.client('beta').hello()).sandboxId).toBe('beta');
  });

  it('each sees only its own artifacts', async () => {
    expect((await host.client('alpha').listArtifacts()).map((a) => a.name)).toEqual(['alpha-only.txt']);
    expect((await host.client('beta').listArtifacts()).map((a) => a.name)).toEqual(['beta-only.txt']);
    await expect(host.client('beta').readArtifact('alpha-only.txt')).rejects.toMatchObject({
      code: 'NOT_FOUND', message: 'no artifact named "alpha-only.txt"',
    });
  });

  it("writes land in the writer's own folder, and the same name does not collide", async () => {
    await host.client('alpha').writeOutput('result.txt', 'from alpha');
    await host.client('beta').writeOutput('result.txt', 'from beta');
    expect(await host.outputNames('alpha')).toEqual(['result.txt']);
    expect(await host.outputNames('beta')).toEqual(['result.txt']);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(join(host.outputs('alpha'), 'result.txt'), 'utf8')).toBe('from alpha');
    expect(await readFile(join(host.outputs('beta'), 'result.txt'), 'utf8')).toBe('from beta');
  });

  it('audits each call under the sandbox it came from', async () => {
    const entries = await host.audit();
    const writes = entries.filter((e) => e.action === 'WriteOutput').map((e) => e.sandbox);
    expect(writes.sort()).toEqual(['alpha', 'beta']);
  });
});
