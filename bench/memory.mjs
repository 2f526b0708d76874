// Sandboxes served at once, and host RSS per sandbox. The host and the
// clients are separate processes; RSS is read from /proc as a delta.
//   bare grpc-js: one server, N connections          -> RSS per connection
//   porthole-host, 1 sandbox, 1 connection           -> the fixed cost
//   porthole-host, N sandboxes, N connections        -> RSS per sandbox
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { sandboxEntry, socketOf, writeHostConfig } from './lib/fixtures.mjs';
import { rssOf, startNode, stop } from './lib/processes.mjs';
import { HOST_BIN, HOST_NODE_ARGS } from './lib/session.mjs';
import { spread } from './lib/stats.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const REPEATS = 2;
const SETTLE_MS = 1500;
const CLIENT_LIFETIME_MS = 180_000;
const KiB = 1024;

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

async function hostConfig(dir, name, count) {
  const sandboxes = Array.from({ length: count }, (_, i) => sandboxEntry(`${name}-${String(i).padStart(4, '0')}`, {
    originPort: 9, // never dialled: no fetch is made here
    artifacts: 'shared-artifacts',
  }));
  const file = await writeHostConfig(dir, name, sandboxes);
  return { file, sockets: sandboxes.map((s) => socketOf(dir, s)) };
}

/** Starts `server`, reads its RSS, connects the clients, reads it again. */
async function measure(dir, label, server, mode, sockets) {
  const host = await startNode(server.script, server.args, { stderr: 'ignore', nodeArgs: server.nodeArgs ?? [] });
  try {
    await settle();
    const idle = rssOf(host.child.pid);
    const socketsFile = join(dir, `${label}-sockets.json`);
    await writeFile(socketsFile, JSON.stringify(sockets));
    const clients = await startNode(here('clients/many-clients.mjs'), [mode, socketsFile, String(CLIENT_LIFETIME_MS)], { stderr: 'inherit' });
    try {
      await settle();
      return { idle, connected: rssOf(host.child.pid), answered: clients.ready.answered, clientRss: clients.ready.rss };
    } finally {
      await stop(clients.child);
    }
  } finally {
    await stop(host.child);
  }
}

export async function measureMemory(root, { sandboxes, log = () => undefined }) {
  const dir = join(root, 'memory');
  await mkdir(join(dir, 'shared-artifacts'), { recursive: true });
  const many = await hostConfig(dir, 'many', sandboxes);
  const one = await hostConfig(dir, 'one', 1);
  const bareSocket = join(dir, 'bare.sock');
  await mkdir(join(dir, 'bare-files'), { recursive: true });
  const bareServer = { script: here('servers/grpc-echo.mjs'), args: [bareSocket, join(dir, 'bare-files')] };

  const raw = [];
  for (let repeat = 0; repeat < REPEATS; repeat++) {
    const bare = await measure(dir, 'bare', bareServer, 'bare', Array(sandboxes).fill(bareSocket));
    const single = await measure(dir, 'one', { script: HOST_BIN, nodeArgs: HOST_NODE_ARGS, args: ['serve', '--config', one.file] }, 'porthole', one.sockets);
    const full = await measure(dir, 'many', { script: HOST_BIN, nodeArgs: HOST_NODE_ARGS, args: ['serve', '--config', many.file] }, 'porthole', many.sockets);
    raw.push({ bare, single, full });
    log(`memory repeat ${repeat + 1}/${REPEATS} done`);
  }

  const perSandbox = spread(raw.map((r) => (r.full.connected - r.single.connected) / (sandboxes - 1) / KiB));
  const perConnection = spread(raw.map((r) => (r.full.connected - r.full.idle) / sandboxes / KiB));
  const bareConnection = spread(raw.map((r) => (r.bare.connected - r.bare.idle) / sandboxes / KiB));
  const served = Math.min(...raw.map((r) => r.full.answered));
  const kib = (s) => `${s.median.toFixed(1)} KiB [${s.min.toFixed(1)}–${s.max.toFixed(1)}]`;

  return {
    raw,
    rows: [
      {
        figure: 'Sandboxes served at once (socket + connected client each)', baseline: '—',
        base: '—', porthole: `${served} of ${sandboxes} answered Hello`, ratio: `${served}`, goal: '≥ 1000', met: served >= 1000,
      },
      {
        figure: 'Host RSS per sandbox served', baseline: 'bare grpc-js RSS per connection',
        base: `${bareConnection.median.toFixed(1)} KiB`, porthole: `${perSandbox.median.toFixed(1)} KiB`,
        ratio: kib(perSandbox), goal: '≤ 50 KiB', met: perSandbox.median <= 50,
      },
    ],
    context: [
      { name: `porthole-host RSS per connection (${sandboxes} sandboxes already listening)`, value: kib(perConnection) },
      { name: `porthole-host RSS, 1 sandbox, 1 client`, value: `${(spread(raw.map((r) => r.single.connected)).median / 2 ** 20).toFixed(1)} MiB` },
      { name: `porthole-host RSS, ${sandboxes} sandboxes, ${sandboxes} clients`, value: `${(spread(raw.map((r) => r.full.connected)).median / 2 ** 20).toFixed(1)} MiB` },
    ],
  };
}
