import { parseArgs } from 'node:util';

import { parseArgsProblem } from '@porthole/shared';

import { loadConfigInWorker } from '../config/load-config-in-worker.js';
import { ConfigError } from '../config/load-config.js';
import { preflight } from '../config/preflight.js';
import { createLogger } from '../log/logger.js';
import { SerialQueue } from '../serial-queue.js';
import { HOST_VERSION } from '../version.js';
import { createHostService, type HostService } from '../service/host-service.js';

const USAGE = `usage: porthole-host serve --config FILE
       porthole-host check --config FILE

  serve   listen on every sandbox's socket until SIGINT or SIGTERM;
          SIGHUP reads the config again (an invalid one is refused)
  check   validate a config and exit: 0 when valid, 1 with every problem`;

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let command: string | undefined;
  let configFile: string | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } },
      allowPositionals: true,
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (values.version) {
      process.stdout.write(`porthole-host ${HOST_VERSION}\n`);
      return 0;
    }
    [command] = positionals;
    configFile = values.config;
    if (positionals.length !== 1 || (command !== 'serve' && command !== 'check')) {
      throw new Error(command ? `unknown command ${JSON.stringify(positionals.join(' '))}` : 'a command is needed');
    }
    if (!configFile) throw new Error('--config FILE is needed');
  } catch (error) {
    process.stderr.write(`porthole-host: ${parseArgsProblem(error as Error)}\n${USAGE}\n`);
    return 2;
  }

  // SIGHUP's default action ends the process: one sent while the host
  // starts is kept and applied once it is ready.
  let hupWhileStarting = false;
  const hupEarly = (): void => {
    hupWhileStarting = true;
  };
  if (command === 'serve') process.on('SIGHUP', hupEarly);

  let config;
  try {
    config = await loadConfigInWorker(configFile);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`porthole-host: invalid config ${error.file}\n`);
    for (const issue of error.issues) process.stderr.write(`  ${issue.path}: ${issue.message}\n`);
    return 1;
  }

  if (command === 'check') {
    const issues = await preflight(config);
    if (issues.length > 0) {
      process.stderr.write(`porthole-host: config ${configFile} cannot be served\n`);
      for (const issue of issues) process.stderr.write(`  ${issue.path}: ${issue.message}\n`);
      return 1;
    }
    const ids = config.sandboxes.map((s) => s.id).join(', ');
    process.stdout.write(`config ok: ${config.sandboxes.length} sandbox(es): ${ids}\n`);
    return 0;
  }

  const log = createLogger(config.logLevel);
  const service = createHostService({ config, logger: log });
  try {
    await service.listen();
  } catch (error) {
    // What stops a valid config from being served is the machine's state
    // (a socket in use, a folder's mode, a secret not set): its message
    // names it, a stack trace would not help.
    process.stderr.write(`porthole-host: cannot serve ${configFile}: ${(error as Error).message}\n`);
    await service.close().catch(() => undefined);
    return 1;
  }
  process.stdout.write(`${JSON.stringify({ ready: true, sockets: Object.fromEntries(service.sockets) })}\n`);

  const file = configFile;
  const reloads = new SerialQueue();
  process.off('SIGHUP', hupEarly);
  process.on('SIGHUP', () => void reloads.run(() => reload(service, file, log)));
  if (hupWhileStarting) void reloads.run(() => reload(service, file, log));

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await service.close();
  process.stderr.write(`porthole-host: stopped on ${signal}\n`);
  return 0;
}

async function reload(service: HostService, file: string, log: ReturnType<typeof createLogger>): Promise<void> {
  try {
    const summary = await service.reload(await loadConfigInWorker(file));
    log.info({ file, ...summary }, 'config reloaded');
  } catch (error) {
    if (error instanceof ConfigError) {
      log.error({ file, issues: error.issues }, 'config reload refused; the old policy stays');
    } else {
      log.error({ file, err: error }, 'config reload failed; the old policy stays');
    }
  }
}
