// Everything one bench run talks to, each in its own process: the raw
// socket server, the bare grpc-js server, the HTTP origin, porthole-host,
// and the client worker. Started together, stopped together, by pid.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { makeFile, MiB, README_LIMITS, sandboxEntry, socketOf, writeHostConfig } from './fixtures.mjs';
import { cpuSecondsOf, startNode, startWorker, stop } from './processes.mjs';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
export const HOST_BIN = here('../../packages/host/bin/porthole-host.js');

/**
 * The Node flags porthole-host's shebang line gives it when it is run as a
 * command; the bench starts it with `node`, so it passes them itself.
 */
export const HOST_NODE_ARGS = readFileSync(HOST_BIN, 'utf8').split('\n', 1)[0].split(/\s+/).filter((arg) => arg.startsWith('--'));

export const BIG_ARTIFACT = 'big.bin';
export const FLOOD_ARTIFACT = 'flood.bin';

/**
 * Starts the session in `dir`. `artifactBytes` sizes the ReadArtifact file;
 * hostNodeArgs / workerNodeArgs add flags such as --cpu-prof.
 */
export async function startSession(dir, { artifactBytes, hostNodeArgs = [], workerNodeArgs = [] }) {
  const started = [];
  const log = openSync(join(dir, 'processes.log'), 'a');
  const opts = { stderr: log };
  try {
    const raw = { echo: join(dir, 'raw-echo.sock'), bulk: join(dir, 'raw-bulk.sock') };
    started.push((await startNode(here('../servers/raw-uds.mjs'), [raw.echo, raw.bulk], opts)).child);

    const grpcSocket = join(dir, 'grpc-echo.sock');
    const grpcFiles = join(dir, 'grpc-files');
    await mkdir(grpcFiles, { recursive: true });
    const grpcServer = (await startNode(here('../servers/grpc-echo.mjs'), [grpcSocket, grpcFiles], opts)).child;
    started.push(grpcServer);

    const origin = await startNode(here('../servers/http-origin.mjs'), [], opts);
    started.push(origin.child);
    const originUrl = `http://127.0.0.1:${origin.ready.port}`;

    const bench = sandboxEntry('bench', { originPort: origin.ready.port });
    const flood = sandboxEntry('flood', { limits: README_LIMITS });
    const config = await writeHostConfig(dir, 'host', [bench, flood]);
    await makeFile(join(dir, bench.artifacts, BIG_ARTIFACT), artifactBytes);
    await makeFile(join(dir, flood.artifacts, FLOOD_ARTIFACT), 64 * MiB);
    const host = await startNode(HOST_BIN, ['serve', '--config', config], { ...opts, nodeArgs: [...HOST_NODE_ARGS, ...hostNodeArgs] });
    started.push(host.child);

    const fileDir = join(dir, 'raw-files');
    await mkdir(fileDir, { recursive: true });
    const worker = startWorker(here('../clients/worker.mjs'), { nodeArgs: workerNodeArgs });
    started.push(worker.child);

    return {
      dir,
      raw,
      grpcSocket,
      originUrl,
      fileDir,
      host: host.child,
      grpcServer,
      portholeSocket: socketOf(dir, bench),
      floodSocket: socketOf(dir, flood),
      worker,
      /**
       * Runs one client step and adds the CPU seconds porthole-host and the
       * bare grpc-js server spent meanwhile, so per-call costs can be
       * compared as well as times.
       */
      async step(cmd, args, timeoutMs = 120_000) {
        const before = [cpuSecondsOf(host.child.pid), cpuSecondsOf(grpcServer.pid)];
        const result = await worker.call(cmd, args, timeoutMs);
        return {
          ...result,
          hostCpuS: cpuSecondsOf(host.child.pid) - before[0],
          grpcCpuS: cpuSecondsOf(grpcServer.pid) - before[1],
        };
      },
      async close() {
        await worker.call('close', {}, 10_000).catch(() => undefined);
        // A worker that exits by itself writes its --cpu-prof profile.
        const exited = new Promise((resolve) => worker.child.once('exit', resolve));
        if (worker.child.connected) worker.child.disconnect();
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
        for (const child of started.reverse()) await stop(child);
        closeSync(log);
      },
    };
  } catch (error) {
    for (const child of started.reverse()) await stop(child);
    closeSync(log);
    throw error;
  }
}
