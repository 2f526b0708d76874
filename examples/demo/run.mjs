// `npm run demo`: a host service, an upstream API and two agents, each in its
// own process, talking only through the sandbox's socket. Exits non-zero if
// any step behaves otherwise than described in the README.
import { once } from 'node:events';
import { join } from 'node:path';

import {
  bin, Children, here, prepareWork, reportAudit, reportOutputs, root,
  section, startHost, startUpstream, verdict,
} from './stage.mjs';

const work = join(root, '.demo');
const AGENT_TIMEOUT_MS = 60_000;
const children = new Children();

/** Runs an agent to completion, relaying its stdout; resolves to its exit code. */
async function runAgent(command, args, env) {
  const child = children.start(command, args, { env: { ...process.env, ...env } });
  child.stdout.pipe(process.stdout, { end: false });
  const timer = setTimeout(() => child.kill('SIGKILL'), AGENT_TIMEOUT_MS);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  return code;
}

async function main() {
  section('setting up');
  await prepareWork(work);
  const { upstream, port, api } = await startUpstream(children);
  console.log(`upstream API on ${api}`);
  const { host, socket } = await startHost(children, work, port, 'examples/demo/run.mjs');
  const env = { PORTHOLE_ADDRESS: `unix:${socket}`, DEMO_API: api, WORK: work, PATH: `${bin}:${process.env.PATH}` };

  section('agent (Node, guest SDK)');
  const agentCode = await runAgent(process.execPath, [join(here, 'agent.mjs')], env);

  section('agent (shell, porthole CLI)');
  const shellCode = await runAgent('sh', [join(here, 'agent.sh')], env);

  host.kill('SIGTERM');
  upstream.kill('SIGTERM');
  await Promise.all([once(host, 'exit'), once(upstream, 'exit')]);

  const names = await reportOutputs(work);
  const problems = await reportAudit(work);
  if (agentCode !== 0) problems.push(`the Node agent exited ${agentCode}`);
  if (shellCode !== 0) problems.push(`the shell agent exited ${shellCode}`);
  if (names.join(',') !== 'report.json,shell-notes.txt') problems.push(`outputs are [${names}], expected report.json and shell-notes.txt`);
  return verdict('demo', problems);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(`demo failed: ${error.stack ?? error}`);
    process.exitCode = 1;
  },
).finally(() => children.stopAll());
