// `npm run demo`: a host service, an upstream API and two agents, each in its
// own process, talking only through the sandbox's socket. Exits non-zero if
// any step behaves otherwise than described in the README.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeDataset } from './dataset.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const work = join(root, '.demo');
const bin = join(root, 'node_modules/.bin');
const STEP_TIMEOUT_MS = 60_000;
const children = new Set();

function section(title) {
  process.stdout.write(`\n== ${title}\n`);
}

/** Starts a child whose stderr is kept for the log and stdout is returned. */
function start(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The first stdout line of a child, parsed as JSON, within a time limit. */
async function firstJsonLine(child, what) {
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS);
  try {
    for await (const line of lines) return JSON.parse(line);
    throw new Error(`${what} exited before it was ready`);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs an agent to completion, relaying its stdout; resolves to its exit code. */
async function runAgent(command, args, env) {
  const child = start(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.pipe(process.stdout, { end: false });
  const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  return code;
}

async function main() {
  section('setting up');
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, 'artifacts'), { recursive: true });
  await writeDataset(join(work, 'artifacts/sensors.csv'));
  await writeFile(join(work, 'artifacts/README.txt'), 'Sensor readings, one row per 15 s, 12 sensors.\n');
  const dataSize = (await stat(join(work, 'artifacts/sensors.csv'))).size;
  console.log(`artifact sensors.csv: ${(dataSize / 1e6).toFixed(1)} MB`);

  const upstream = start(process.execPath, [join(here, 'upstream.mjs')]);
  const { port } = await firstJsonLine(upstream, 'the upstream API');
  const api = `http://127.0.0.1:${port}`;
  console.log(`upstream API on ${api}`);

  const config = `# Written by examples/demo/run.mjs
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
`;
  await writeFile(join(work, 'host.yaml'), config);

  const host = start(join(bin, 'porthole-host'), ['serve', '--config', join(work, 'host.yaml')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await firstJsonLine(host, 'porthole-host');
  const socket = ready.sockets['demo-agent'];
  console.log(`porthole-host serving sandbox demo-agent on ${socket}`);
  const env = { PORTHOLE_ADDRESS: `unix:${socket}`, DEMO_API: api, WORK: work, PATH: `${bin}:${process.env.PATH}` };

  section('agent (Node, guest SDK)');
  const agentCode = await runAgent(process.execPath, [join(here, 'agent.mjs')], env);

  section('agent (shell, porthole CLI)');
  const shellCode = await runAgent('sh', [join(here, 'agent.sh')], env);

  host.kill('SIGTERM');
  upstream.kill('SIGTERM');
  await Promise.all([once(host, 'exit'), once(upstream, 'exit')]);

  section('outputs written');
  const outputs = (await readdir(join(work, 'outputs'), { withFileTypes: true })).filter((e) => e.isFile());
  for (const entry of outputs) {
    const path = join(work, 'outputs', entry.name);
    const info = await stat(path);
    const sha = createHash('sha256').update(await readFile(path)).digest('hex');
    console.log(`${entry.name.padEnd(18)} ${String(info.size).padStart(6)} bytes  mode ${(info.mode & 0o777).toString(8)}  sha256 ${sha.slice(0, 16)}...`);
  }

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
  if (agentCode !== 0) problems.push(`the Node agent exited ${agentCode}`);
  if (shellCode !== 0) problems.push(`the shell agent exited ${shellCode}`);
  const names = outputs.map((e) => e.name).sort().join(',');
  if (names !== 'report.json,shell-notes.txt') problems.push(`outputs are [${names}], expected report.json and shell-notes.txt`);
  if (!entries.some((e) => e.target.includes('169.254.169.254') && e.reason === 'POLICY_DENIED')) problems.push('no audited metadata refusal');
  if (!entries.some((e) => e.target === '../escape' && e.reason === 'INVALID_ARGUMENT')) problems.push('no audited ../escape refusal');

  section(problems.length === 0 ? 'demo passed' : 'demo FAILED');
  for (const problem of problems) console.log(`- ${problem}`);
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`demo failed: ${error.stack ?? error}`);
    process.exitCode = 1;
  },
).finally(() => {
  for (const child of children) child.kill('SIGKILL');
});
