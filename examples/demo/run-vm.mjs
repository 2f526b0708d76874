// `npm run demo:vm`: the demo's agent (the same agent.mjs) runs inside a
// QEMU microVM with no network device and no shared filesystem, and does its
// whole job through AF_VSOCK: it sets no address, so the SDK dials the in-VM
// default vsock:2:52. The harness plays Firecracker's vsock device, so the
// host service sees the connection on <uds_path>_52. Exits non-zero if any
// step behaves otherwise than in `npm run demo`.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { bootVm, prepare, vmUnavailableReason } from '../../vm/harness/index.js';
import { stageApp } from '../../vm/stage-app.js';
import { writeDataset } from './dataset.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const work = join(root, '.demo-vm');
const children = new Set();
let vm;

const section = (title) => process.stdout.write(`\n== ${title}\n`);

function start(command, args) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function firstJsonLine(child, what) {
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    for await (const line of createInterface({ input: child.stdout })) return JSON.parse(line);
    throw new Error(`${what} exited before it was ready`);
  } finally {
    clearTimeout(timer);
  }
}

async function main() {
  const unavailable = vmUnavailableReason();
  if (unavailable) throw new Error(`cannot run a microVM here: ${unavailable}`);

  section('setting up');
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, 'artifacts'), { recursive: true });
  await writeDataset(join(work, 'artifacts/sensors.csv'));
  await writeFile(join(work, 'artifacts/README.txt'), 'Sensor readings, one row per 15 s, 12 sensors.\n');
  console.log(`artifact sensors.csv: ${((await stat(join(work, 'artifacts/sensors.csv'))).size / 1e6).toFixed(1)} MB`);

  const upstream = start(process.execPath, [join(here, 'upstream.mjs')]);
  const { port } = await firstJsonLine(upstream, 'the upstream API');
  const api = `http://127.0.0.1:${port}`;
  console.log(`upstream API on ${api} (reached by the host only)`);

  const udsPath = join(work, 'vm/demo-agent.vsock');
  await writeFile(join(work, 'host.yaml'), `# Written by examples/demo/run-vm.mjs
audit: { path: ./audit.jsonl }
logLevel: warn
sandboxes:
  - id: demo-agent
    listen: { udsPath: ./vm/demo-agent.vsock, port: 52 }
    artifacts: ./artifacts
    outputs: { dir: ./outputs, maxBytes: 16MiB, maxFiles: 20, maxFileBytes: 4MiB }
    fetch:
      allow:
        - { scheme: http, host: 127.0.0.1, port: ${port}, pathPrefix: /v1/, methods: [GET, POST] }
        - { scheme: http, host: localhost, port: ${port}, pathPrefix: /v1/ }
    limits: { requestsPerSecond: 20, burst: 40, maxConcurrent: 8, bytesPerSecond: 64MiB }
`);
  const host = start(join(root, 'node_modules/.bin/porthole-host'), ['serve', '--config', join(work, 'host.yaml')]);
  const ready = await firstJsonLine(host, 'porthole-host');
  console.log(`porthole-host serving sandbox demo-agent on ${ready.sockets['demo-agent']}`);

  section('booting the microVM');
  const t0 = performance.now();
  const image = prepare(stageApp('demo', [join(here, 'agent.mjs')]));
  console.log(`images ready in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${image.kernel}`);
  vm = await bootVm({ image, udsPath, guestPorts: [52], agentCommand: `DEMO_API=${api} node agent.mjs`, lifetimeMs: 240_000, readyTimeoutMs: 60_000 });
  console.log(`QEMU microvm (TCG, no network device, no shared filesystem) ready in ${(vm.readyMs / 1000).toFixed(1)} s; host side: ${udsPath}`);

  section('agent (Node, guest SDK, inside the VM, AF_VSOCK to CID 2 port 52)');
  const exit = await vm.waitExit(180_000);
  for (const line of exit.output.split('\n')) if (line.startsWith('agent: ')) console.log(line.trimEnd());

  host.kill('SIGTERM');
  upstream.kill('SIGTERM');
  await Promise.all([once(host, 'exit'), once(upstream, 'exit')]);

  section('outputs written');
  const outputs = (await readdir(join(work, 'outputs'), { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  for (const name of outputs) console.log(`${name.padEnd(18)} ${(await stat(join(work, 'outputs', name))).size} bytes`);

  section('audit log summary');
  const entries = (await readFile(join(work, 'audit.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
  const counts = new Map();
  for (const e of entries) {
    const key = `${e.action} ${e.decision}${e.reason ? ` ${e.reason}` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [key, count] of [...counts].sort()) console.log(`${String(count).padStart(3)}  ${key}`);

  const problems = [];
  if (exit.agentExit !== 0) problems.push(`the agent in the VM exited ${exit.agentExit}`);
  if (outputs.join(',') !== 'report.json') problems.push(`outputs are [${outputs.join(',')}], expected report.json`);
  if (!entries.some((e) => e.target.includes('169.254.169.254') && e.reason === 'POLICY_DENIED')) problems.push('no audited metadata refusal');
  if (!entries.some((e) => e.target === '../escape' && e.reason === 'INVALID_ARGUMENT')) problems.push('no audited ../escape refusal');
  if (!entries.some((e) => e.action === 'ReadArtifact' && e.decision === 'allowed')) problems.push('no audited artifact read');
  if (problems.length > 0 && exit.agentExit !== 0) process.stderr.write(`--- guest console ---\n${exit.output.slice(-4000)}\n`);

  section(problems.length === 0 ? 'demo:vm passed' : 'demo:vm FAILED');
  for (const problem of problems) console.log(`- ${problem}`);
  return problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`demo:vm failed: ${error.stack ?? error}`);
    process.exitCode = 1;
  },
).finally(async () => {
  await vm?.stop();
  for (const child of children) child.kill('SIGKILL');
});
