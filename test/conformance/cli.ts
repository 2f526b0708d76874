import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { loadFixtures, prepareFixtures, reservePort } from './fixtures.js';
import type { ConformancePolicy } from './policy.js';
import { junitReport, summarize, textReport } from './report.js';
import { runConformance } from './runner.js';
import { ConformanceUpstream } from './upstream.js';

const USAGE = `usage:
  npm run conformance -- --prepare DIR
      write fixtures and DIR/policy.json, reserve the upstream port, print what to start
  npm run conformance -- --fixtures DIR --address ADDR[,ADDR2]
      run every check against an endpoint started with DIR/policy.json
  npm run conformance -- --prepare DIR --start 'CMD' [--address ADDR[,ADDR2]]
      both in one go: prepare, run CMD (the endpoint; {dir} is replaced by DIR),
      run the checks, stop CMD. Without --address, porthole-host's socket layout.

  ADDR      unix:/path/to.sock (or 127.0.0.1:PORT, [::1]:PORT); the first is the
            sandbox "conf-main", the second "conf-other" (isolation and rate checks)
  --junit FILE   JUnit XML report (default DIR/conformance-results.xml)
  --only TEXT    run only the checks whose id contains TEXT

Exit: 0 every check passed or was skipped, 1 a check failed, 2 usage or setup error.`;

// The suite talks to endpoints on this machine only: it checks their outputs
// folder on disk, and it never sends traffic anywhere else.
const LOCAL_ADDRESS = /^(unix:.+|127\.0\.0\.1:\d+|\[::1\]:\d+)$/;
const START_WAIT_MS = 30_000;
const STOP_WAIT_MS = 10_000;

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        prepare: { type: 'string' },
        fixtures: { type: 'string' },
        address: { type: 'string', multiple: true },
        start: { type: 'string' },
        junit: { type: 'string' },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const addresses = (values.address ?? []).flatMap((a) => a.split(',')).map((a) => a.trim()).filter(Boolean);
  const bad = addresses.find((a) => !LOCAL_ADDRESS.test(a));
  if (bad) return usage(`address ${JSON.stringify(bad)} is not unix:PATH or a loopback host:port`);
  if (addresses.length > 2) return usage('at most two addresses: the main sandbox, then the other');

  if (values.prepare && !values.start) {
    if (addresses.length > 0) return usage('--prepare with --address needs --start (or run --prepare first, then --fixtures DIR --address ...)');
    return prepareOnly(values.prepare);
  }
  if (values.prepare && values.start) return prepareAndStart(values.prepare, values.start, addresses, values);
  if (!values.fixtures) return usage('--fixtures DIR (from an earlier --prepare DIR) or --prepare DIR is needed');
  if (addresses.length === 0) return usage('--address is needed');

  let policy: ConformancePolicy;
  try {
    policy = await loadFixtures(values.fixtures);
  } catch (error) {
    process.stderr.write(`conformance: ${(error as Error).message}\n`);
    return 2;
  }
  const upstream = new ConformanceUpstream();
  try {
    await upstream.listen(policy.upstream.port);
  } catch (error) {
    process.stderr.write(`conformance: cannot listen on 127.0.0.1:${policy.upstream.port}, the port in the policy (${(error as Error).message}); run --prepare again and restart the endpoint\n`);
    return 2;
  }
  try {
    return await run(policy, upstream, addresses, resolve(values.fixtures), values);
  } finally {
    await upstream.close();
  }
}

async function prepareOnly(dir: string): Promise<number> {
  const port = await reservePort();
  const prepared = await prepareFixtures(dir, port);
  process.stdout.write(`Fixtures written to ${prepared.dir}
  policy (neutral JSON):            ${prepared.policyFile}
  the same, as porthole-host config: ${prepared.hostConfigFile}
  upstream: 127.0.0.1:${port} (reserved now; the run step listens on it, so keep it free)

1. Start the endpoint under test with that policy: sandbox conf-main on one socket,
   conf-other on another. For porthole-host (after npm run build):
     node packages/host/bin/porthole-host.js serve --config ${prepared.hostConfigFile}
2. Run the checks:
     npm run conformance -- --fixtures ${prepared.dir} --address ${prepared.hostAddresses.join(',')}
3. To run again, --prepare again and restart the endpoint (the outputs quota is used up).
`);
  return 0;
}

async function prepareAndStart(dir: string, command: string, given: string[], values: { junit?: string | undefined; only?: string | undefined }): Promise<number> {
  // Here the upstream listens first, so its port goes into the policy with no gap.
  const upstream = await new ConformanceUpstream().listen(0);
  let child: ChildProcess | undefined;
  try {
    const prepared = await prepareFixtures(dir, upstream.port);
    const addresses = given.length > 0 ? given : prepared.hostAddresses;
    const line = command.replaceAll('{dir}', prepared.dir);
    process.stdout.write(`starting: ${line}\n`);
    // Its own process group: the shell and whatever it starts stop together.
    child = spawn(line, { shell: true, detached: true, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PORTHOLE_CONFORMANCE_DIR: prepared.dir } });
    const sockets = addresses.filter((a) => a.startsWith('unix:')).map((a) => a.slice('unix:'.length).replace(/^\/\/(?=\/)/, ''));
    const deadline = Date.now() + START_WAIT_MS;
    for (let tries = 0; tries < START_WAIT_MS / 100 && !sockets.every((s) => existsSync(s)); tries++) {
      if (Date.now() > deadline || child.exitCode !== null) break;
      await new Promise((done) => setTimeout(done, 100));
    }
    if (!sockets.every((s) => existsSync(s))) {
      process.stderr.write(`conformance: the endpoint did not create ${sockets.join(', ')} within ${START_WAIT_MS} ms\n`);
      return 2;
    }
    return await run(prepared.policy, upstream, addresses, prepared.dir, values);
  } finally {
    if (child?.pid !== undefined && child.exitCode === null) {
      const group = -child.pid;
      const signal = (name: NodeJS.Signals): void => {
        try {
          process.kill(group, name);
        } catch {
          // The group is gone already.
        }
      };
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), STOP_WAIT_MS);
      await once(child, 'exit');
      clearTimeout(timer);
    }
    await upstream.close();
  }
}

async function run(policy: ConformancePolicy, upstream: ConformanceUpstream, addresses: string[], dir: string, values: { junit?: string | undefined; only?: string | undefined }): Promise<number> {
  const ids = policy.sandboxes.map((s) => s.id);
  const heading = `Porthole conformance against ${addresses.map((a, i) => `${a} (${ids[i]})`).join(', ')}`;
  process.stdout.write(`${heading}\n`);
  const results = await runConformance({
    policy,
    upstream,
    addresses,
    ...(values.only ? { only: values.only } : {}),
    onResult: (r) => process.stderr.write(`${r.verdict === 'pass' ? '.' : r.verdict === 'fail' ? 'F' : 's'}`),
  });
  process.stderr.write('\n');
  process.stdout.write(`\n${textReport(results, heading)}`);
  const junit = resolve(values.junit ?? join(dir, 'conformance-results.xml'));
  await mkdir(dirname(junit), { recursive: true });
  await writeFile(junit, junitReport(results));
  process.stdout.write(`JUnit XML: ${junit}\n`);
  return summarize(results).failed > 0 ? 1 : 0;
}

function usage(problem: string): number {
  process.stderr.write(`conformance: ${problem}\n${USAGE}\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`conformance: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 2;
  },
);
