import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

import {
  artifactBytes,
  conformancePolicy,
  MAIN_ARTIFACTS,
  OTHER_ARTIFACTS,
  portholeHostAddresses,
  portholeHostConfig,
  type ConformancePolicy,
} from './policy.js';

/** What --prepare leaves in its folder. */
export interface PreparedFixtures {
  dir: string;
  policy: ConformancePolicy;
  policyFile: string;
  /** The same policy in porthole-host's config form, for our own host. */
  hostConfigFile: string;
  /** Where porthole-host started with hostConfigFile listens, main first. */
  hostAddresses: string[];
}

/**
 * Writes the artifact folders, empty outputs folders, policy.json and
 * porthole-host.json under `dir`. Only the folders it creates are
 * replaced; anything else in `dir` is left alone.
 */
export async function prepareFixtures(dirText: string, upstreamPort: number): Promise<PreparedFixtures> {
  const dir = resolve(dirText);
  for (const sub of ['main', 'other', 'run']) await rm(join(dir, sub), { recursive: true, force: true });
  const policy = conformancePolicy(dir, upstreamPort);

  for (const [role, specs] of [['main', MAIN_ARTIFACTS], ['other', OTHER_ARTIFACTS]] as const) {
    const sandbox = policy.sandboxes.find((s) => s.role === role)!;
    await mkdir(sandbox.artifacts, { recursive: true });
    for (const spec of specs) await writeFile(join(sandbox.artifacts, spec.name), artifactBytes(spec));
    if (sandbox.outputs) await mkdir(sandbox.outputs.dir, { recursive: true });
  }
  const main = policy.sandboxes.find((s) => s.role === 'main')!;
  await mkdir(join(main.artifacts, 'nested'));
  await writeFile(join(main.artifacts, 'nested', 'inner.txt'), 'not an artifact\n');
  await mkdir(join(dir, 'run'), { recursive: true });

  const policyFile = join(dir, 'policy.json');
  const hostConfigFile = join(dir, 'porthole-host.json');
  await writeFile(policyFile, `${JSON.stringify(policy, null, 2)}\n`);
  const hostConfig = portholeHostConfig(policy, join(dir, 'run'), join(dir, 'audit.jsonl'));
  await writeFile(hostConfigFile, `${JSON.stringify(hostConfig, null, 2)}\n`);
  return { dir, policy, policyFile, hostConfigFile, hostAddresses: portholeHostAddresses(policy, join(dir, 'run')) };
}

/** Reads a prepared folder back, refusing one a previous run already used. */
export async function loadFixtures(dirText: string): Promise<ConformancePolicy> {
  const dir = resolve(dirText);
  const policy = JSON.parse(await readFile(join(dir, 'policy.json'), 'utf8')) as ConformancePolicy;
  if (policy.conformancePolicy !== 1) throw new Error(`${dir}/policy.json is not a conformance policy (version 1)`);
  for (const sandbox of policy.sandboxes) {
    if (!sandbox.outputs) continue;
    const used = (await readdir(sandbox.outputs.dir)).filter((n) => !n.startsWith('.'));
    if (used.length > 0) {
      throw new Error(`${sandbox.outputs.dir} already holds outputs (${used.slice(0, 3).join(', ')}...): the quota checks need an empty folder; run --prepare again and restart the endpoint`);
    }
  }
  return policy;
}

/** A TCP port on 127.0.0.1 that was free a moment ago, for the two-step flow. */
export async function reservePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (!address || typeof address === 'string') throw new Error('could not learn a free port');
  return address.port;
}
