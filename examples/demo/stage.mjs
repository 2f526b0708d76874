// The parts both demos share: the work folder with its data set, the
// upstream API and the host service as child processes, and the closing
// report of outputs and audit log.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeDataset } from './dataset.mjs';

export const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '../..');
export const bin = join(root, 'node_modules/.bin');
const STEP_TIMEOUT_MS = 60_000;

export const section = (title) => process.stdout.write(`\n== ${title}\n`);

/** Child processes of a demo, killed by stopAll() however the demo ends. */
export class Children {
  #live = new Set();

  start(command, args, options = {}) {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], ...options });
    this.#live.add(child);
    child.once('exit', () => this.#live.delete(child));
    return child;
  }

  stopAll() {
    for (const child of this.#live) child.kill('SIGKILL');
  }
}

/** The first stdout line of a child, parsed as JSON, within a time limit. */
export async function firstJsonLine(child, what) {
  const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS);
  try {
    for await (const line of createInterface({ input: child.stdout })) return JSON.parse(line);
    throw new Error(`${what} exited before it was ready`);
  } finally {
    clearTimeout(timer);
  }
}

/** A fresh work folder holding the artifacts. */
export async function prepareWork(work) {
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, 'artifacts'), { recursive: true });
  await writeDataset(join(work, 'artifacts/sensors.csv'));
  await writeFile(join(work, 'artifacts/README.txt'), 'Sensor readings, one row per 15 s, 12 sensors.\n');
  console.log(`artifact sensors.csv: ${((await stat(join(work, 'artifacts/sensors.csv'))).size / 1e6).toFixed(1)} MB`);
}

/** Starts the upstream API; resolves to its origin. */
export async function startUpstream(children) {
  const upstream = children.start(process.execPath, [join(here, 'upstream.mjs')]);
  const { port } = await firstJsonLine(upstream, 'the upstream API');
  return { upstream, port, api: `http://127.0.0.1:${port}` };
}

/** Writes the demo's host config and starts porthole-host; resolves to its socket. */
export async function startHost(children, work, port, writer) {
  await writeFile(join(work, 'host.yaml'), `# Written by ${writer}
audit:
  path: ./audit.jsonl
logLevel: warn
sandboxes:
  - id: demo-agent
    listen: { udsPath: ./vm/demo-agent.vsock, port: 52 }
    artifacts: ./artifacts
    outputs: { dir: ./outputs, maxBytes: 16MiB, maxFiles: 20, maxFileBytes: 4MiB }
    fetch:
      allow:
        # An IP literal names its address, so loopback is allowed here only.
        - { scheme: http, host: 127.0.0.1, port: ${port}, pathPrefix: /v1/, methods: [GET, POST] }
        # A name is judged on what it resolves to: localhost is refused.
        - { scheme: http, host: localhost, port: ${port}, pathPrefix: /v1/ }
    limits: { requestsPerSecond: 20, burst: 40, maxConcurrent: 8, bytesPerSecond: 64MiB }
`);
  const host = children.start(join(bin, 'porthole-host'), ['serve', '--config', join(work, 'host.yaml')]);
  const ready = await firstJsonLine(host, 'porthole-host');
  const socket = ready.sockets['demo-agent'];
  console.log(`porthole-host serving sandbox demo-agent on ${socket}`);
  return { host, socket, udsPath: join(work, 'vm/demo-agent.vsock') };
}

/** Prints the outputs written; resolves to their names, sorted. */
export async function reportOutputs(work) {
  section('outputs written');
  const names = (await readdir(join(work, 'outputs'), { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name).sort();
  for (const name of names) {
    const path = join(work, 'outputs', name);
    const info = await stat(path);
    const sha = createHash('sha256').update(await readFile(path)).digest('hex');
    console.log(`${name.padEnd(18)} ${String(info.size).padStart(6)} bytes  mode ${(info.mode & 0o777).toString(8)}  sha256 ${sha.slice(0, 16)}...`);
  }
  return names;
}

/** Prints the audit log by action and outcome; resolves to what is missing from it. */
export async function reportAudit(work) {
  section('audit log summary');
  const entries = (await readFile(join(work, 'audit.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
  const counts = new Map();
  for (const e of entries) {
    const key = `${e.action} ${e.decision}${e.reason ? ` ${e.reason}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [key, count] of [...counts].sort()) console.log(`${String(count).padStart(3)}  ${key}`);
  const moved = entries.reduce((sum, e) => sum + e.bytes, 0);
  console.log(`${entries.length} decisions, ${moved} payload bytes; full log: ${join(work, 'audit.jsonl')}`);

  const problems = [];
  if (!entries.some((e) => e.action === 'ReadArtifact' && e.decision === 'allowed')) problems.push('no audited artifact read');
  if (!entries.some((e) => e.target.includes('169.254.169.254') && e.reason === 'POLICY_DENIED')) problems.push('no audited metadata refusal');
  if (!entries.some((e) => e.target === '../escape' && e.reason === 'INVALID_ARGUMENT')) problems.push('no audited ../escape refusal');
  return problems;
}

/** Prints the verdict; resolves to the exit code. */
export function verdict(name, problems) {
  section(problems.length === 0 ? `${name} passed` : `${name} FAILED`);
  for (const problem of problems) console.log(`- ${problem}`);
  return problems.length === 0 ? 0 : 1;
}
