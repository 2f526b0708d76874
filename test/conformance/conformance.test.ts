import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { TestHost } from '../support/host-fixture.js';
import { tempDir } from '../support/temp-dir.js';
import { ROOT } from '../support/node-child.js';
import { BrokenProxy } from './broken-host.js';
import { ALL_CHECKS } from './checks/index.js';
import { prepareFixtures } from './fixtures.js';
import { portholeHostConfig } from './policy.js';
import { junitReport, textReport } from './report.js';
import { runConformance, type CheckResult } from './runner.js';
import { ConformanceUpstream } from './upstream.js';

/** Fresh fixtures, the suite's upstream and our host started from the translated policy. */
async function startOurHost(): Promise<{ host: TestHost; upstream: ConformanceUpstream; dir: string; stop: () => Promise<void> }> {
  const temp = await tempDir('conformance');
  const upstream = await new ConformanceUpstream().listen(0);
  const prepared = await prepareFixtures(temp.path, upstream.port);
  const config = portholeHostConfig(prepared.policy, join(temp.path, 'run'), join(temp.path, 'audit.jsonl'));
  const host = await TestHost.start({ sandboxes: config.sandboxes as Record<string, unknown>[] });
  return {
    host,
    upstream,
    dir: temp.path,
    stop: async () => {
      await host.stop();
      await upstream.close();
      await temp.remove();
    },
  };
}

const failedIds = (results: CheckResult[]): string[] => results.filter((r) => r.verdict === 'fail').map((r) => r.id).sort();

describe('the conformance suite', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });

  it('passes every check against our host', async () => {
    const ours = await startOurHost();
    stops.push(ours.stop);
    const policy = JSON.parse(await readFile(join(ours.dir, 'policy.json'), 'utf8'));
    const results = await runConformance({
      policy,
      upstream: ours.upstream,
      addresses: [ours.host.address('conf-main'), ours.host.address('conf-other')],
    });

    const report = textReport(results, 'porthole-host');
    expect(failedIds(results), report).toEqual([]);
    expect(results.filter((r) => r.verdict === 'skip')).toEqual([]);
    expect(results.map((r) => r.id)).toEqual(ALL_CHECKS.map((c) => c.id));
    expect(ours.upstream.strays).toEqual([]);

    const junit = junitReport(results);
    await writeFile(join(ours.dir, 'conformance-results.xml'), junit);
    expect(junit).toContain(`<testsuites name="porthole-conformance" tests="${ALL_CHECKS.length}" failures="0" skipped="0"`);
  }, 240_000);

  it('fails a deliberately broken endpoint on exactly the rules it breaks', async () => {
    const ours = await startOurHost();
    stops.push(ours.stop);
    const proxies = await Promise.all(['conf-main', 'conf-other'].map((id) =>
      new BrokenProxy(ours.host.address(id), join(ours.dir, 'run', `${id}.broken.sock`)).listen()));
    stops.push(async () => {
      for (const proxy of proxies) await proxy.close();
    });
    const policy = JSON.parse(await readFile(join(ours.dir, 'policy.json'), 'utf8'));

    const results = await runConformance({ policy, upstream: ours.upstream, addresses: proxies.map((p) => p.address) });

    expect(failedIds(results), textReport(results, 'broken proxy')).toEqual([
      'artifacts.read-large-chunks',
      'artifacts.read-to-end',
      'artifacts.read-whole',
      'artifacts.read-whole-exact-chunks',
      'artifacts.refuse-folder',
      'artifacts.refuse-missing',
      'handshake.unknown-major-2-refused',
      'handshake.unknown-major-4096-refused',
      'isolation.artifacts',
      'lifecycle.slow-reader-fetch',
    ]);
    const byId = new Map(results.map((r) => [r.id, r.message]));
    expect(byId.get('artifacts.read-whole')).toMatch(/a chunk is 131072 bytes, the bound is 65536/);
    expect(byId.get('artifacts.refuse-missing')).toMatch(/expected one porthole-reason NOT_FOUND, got status NOT_FOUND, no porthole-reason/);
    expect(byId.get('handshake.unknown-major-2-refused')).toMatch(/expected INVALID_ARGUMENT, the call succeeded/);
    expect(byId.get('lifecycle.slow-reader-fetch')).toMatch(/the host took \d+ bytes from the upstream while its guest read nothing/);
  }, 240_000);

  it('has every check listed under a rule of the contract document', async () => {
    const doc = await readFile(join(ROOT, 'proto', 'README.md'), 'utf8');
    const rules = new Set([...doc.matchAll(/^\| \*\*([A-Z]\d+)\*\* \|/gm)].map((m) => m[1]));
    const missing = ALL_CHECKS.filter((c) => !doc.includes(`\`${c.id}\``)).map((c) => c.id);
    const unknownRules = ALL_CHECKS.flatMap((c) => c.rules.filter((r) => !rules.has(r)).map((r) => `${c.id}: ${r}`));
    expect({ missing, unknownRules }).toEqual({ missing: [], unknownRules: [] });
    const ids = ALL_CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
