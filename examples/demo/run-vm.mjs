// `npm run demo:vm`: the demo's agent (the same agent.mjs) runs inside a
// QEMU microVM with no network device and no shared filesystem, and does its
// whole job through AF_VSOCK: it sets no address, so the SDK dials the in-VM
// default vsock:2:52. The harness plays Firecracker's vsock device, so the
// host service sees the connection on <uds_path>_52. Exits non-zero if any
// step behaves otherwise than in `npm run demo`.
import { once } from 'node:events';
import { join } from 'node:path';

import { bootVm, prepare, vmUnavailableReason } from '../../vm/harness/index.js';
import { stageApp } from '../../vm/stage-app.js';
import {
  Children, here, prepareWork, reportAudit, reportOutputs, root,
  section, startHost, startUpstream, verdict,
} from './stage.mjs';

const work = join(root, '.demo-vm');
const children = new Children();
let vm;

async function main() {
  const unavailable = vmUnavailableReason();
  if (unavailable) throw new Error(`cannot run a microVM here: ${unavailable}`);

  section('setting up');
  await prepareWork(work);
  const { upstream, port, api } = await startUpstream(children);
  console.log(`upstream API on ${api} (reached by the host only)`);
  const { host, udsPath } = await startHost(children, work, port, 'examples/demo/run-vm.mjs');

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

  const names = await reportOutputs(work);
  const problems = await reportAudit(work);
  if (exit.agentExit !== 0) problems.push(`the agent in the VM exited ${exit.agentExit}`);
  if (names.join(',') !== 'report.json') problems.push(`outputs are [${names}], expected report.json`);
  if (problems.length > 0 && exit.agentExit !== 0) process.stderr.write(`--- guest console ---\n${exit.output.slice(-4000)}\n`);

  return verdict('demo:vm', problems);
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
  children.stopAll();
});
