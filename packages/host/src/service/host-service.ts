import { hybridVsockPath, type HostConfig } from '@porthole/shared';
import type { Logger } from 'pino';

import { AuditLog } from '../audit/audit-log.js';
import { ConnectionBudget } from '../fetch/connection-budget.js';
import type { EgressGuard, Resolver } from '../fetch/upstream-pool.js';
import { SandboxListener } from '../listener/sandbox-listener.js';
import { createLogger } from '../log/logger.js';
import { Sandbox } from '../sandbox/sandbox.js';

export interface HostServiceOptions {
  /** A validated config with absolute paths (see loadConfig). */
  config: HostConfig;
  /** Operational logger; omitted: pino on stderr at the config's level. */
  logger?: Logger;
  /** Name resolution for fetches; omitted: the system resolver. */
  resolver?: Resolver;
  /** Called with every address right before the host connects to it. */
  egressGuard?: EgressGuard;
}

export interface HostService {
  readonly sandboxes: ReadonlyMap<string, Sandbox>;
  /** The socket each sandbox listens on, by sandbox id. */
  readonly sockets: ReadonlyMap<string, string>;
  listen(): Promise<void>;
  close(): Promise<void>;
}

/** Builds the host service for a config; nothing listens until listen(). */
export function createHostService(options: HostServiceOptions): HostService {
  const { config } = options;
  const log = options.logger ?? createLogger(config.logLevel);
  const audit = new AuditLog(config.audit.path);
  const sandboxes = new Map<string, Sandbox>();
  const listeners: SandboxListener[] = [];
  const upstreamBudget = new ConnectionBudget(config.limits.maxUpstreamConnections, 'this host');

  for (const [index, sandboxConfig] of config.sandboxes.entries()) {
    const sandbox = new Sandbox(sandboxConfig, {
      audit,
      log,
      upstreamBudget,
      where: `sandboxes[${index}]`,
      ...(options.resolver ? { resolver: options.resolver } : {}),
      ...(options.egressGuard ? { egressGuard: options.egressGuard } : {}),
    });
    sandboxes.set(sandbox.id, sandbox);
    const { udsPath, port } = sandboxConfig.listen;
    listeners.push(new SandboxListener(sandbox, hybridVsockPath(udsPath, port)));
  }

  return {
    sandboxes,
    sockets: new Map(listeners.map((l) => [l.sandbox.id, l.path])),

    async listen() {
      await audit.ready();
      for (const sandbox of sandboxes.values()) await sandbox.open();
      for (const listener of listeners) {
        await listener.listen();
        log.info({ sandbox: listener.sandbox.id, socket: listener.path }, 'listening');
      }
    },

    async close() {
      await Promise.all(listeners.map((l) => l.close()));
      await Promise.all([...sandboxes.values()].map((s) => s.close()));
      await audit.close();
    },
  };
}
