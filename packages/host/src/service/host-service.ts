import { hybridVsockPath, type HostConfig, type SandboxConfig } from '@porthole/shared';
import type { Logger } from 'pino';

import type { UsageSnapshot } from '../accounting/sandbox-usage.js';
import { AuditLog } from '../audit/audit-log.js';
import { ConnectionBudget } from '../fetch/connection-budget.js';
import type { EgressGuard, Resolver } from '../fetch/upstream-pool.js';
import { HostAdmission } from '../limits/host-admission.js';
import { SendShare } from '../limits/send-share.js';
import { GuestServers } from '../listener/guest-servers.js';
import { checkSocketPath, SandboxListener } from '../listener/sandbox-listener.js';
import { VsockListener } from '../listener/vsock-listener.js';
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

/** What a reload changed, by sandbox id. */
export interface ReloadSummary {
  added: string[];
  removed: string[];
  updated: string[];
  /** Settings that only a restart applies, left as they were. */
  needsRestart: string[];
}

export interface HostService {
  readonly sandboxes: ReadonlyMap<string, Sandbox>;
  /** The socket each sandbox listens on, by sandbox id. */
  readonly sockets: ReadonlyMap<string, string>;
  /** What the host spent for each sandbox since it started, by sandbox id. */
  usage(): Record<string, UsageSnapshot>;
  listen(): Promise<void>;
  /** Appends the audit lines not yet written (they wait up to AUDIT_FLUSH_MS). */
  flushAudit(): void;
  /**
   * Puts a new config in force for new calls. Every new sandbox policy is
   * built and checked first; if any fails, nothing changes and the error
   * is thrown.
   */
  reload(config: HostConfig): Promise<ReloadSummary>;
  close(): Promise<void>;
}

// Metering costs every call; it is on when asked for or when a budget needs it.
function meterCpu(config: HostConfig): boolean {
  return config.limits.cpuAccounting ?? config.sandboxes.some((s) => s.limits.cpuMsPerSecond !== undefined);
}

/** Builds the host service for a config; nothing listens until listen(). */
export function createHostService(options: HostServiceOptions): HostService {
  let config = options.config;
  const log = options.logger ?? createLogger(config.logLevel);
  const audit = new AuditLog(config.audit.path);
  const sandboxes = new Map<string, Sandbox>();
  const listeners = new Map<string, SandboxListener>();
  const sockets = new Map<string, string>();
  const byCid = new Map<number, SandboxListener>();
  const guestServers = new GuestServers(log);
  const upstreamBudget = new ConnectionBudget(config.limits.maxUpstreamConnections, 'this host');
  const hostAdmission = new HostAdmission(config.limits.maxConcurrentCalls, config.sandboxes.length);
  const sendShare = new SendShare();
  const vsockListener = config.vsock && new VsockListener(config.vsock, byCid, log);
  let listening = false;

  function build(sandboxConfig: SandboxConfig, index: number, previous?: Sandbox): Sandbox {
    return new Sandbox(sandboxConfig, {
      audit,
      log,
      upstreamBudget,
      hostAdmission,
      sendShare,
      meterCpu: meterCpu(options.config),
      where: `sandboxes[${index}]`,
      ...(options.resolver ? { resolver: options.resolver } : {}),
      ...(options.egressGuard ? { egressGuard: options.egressGuard } : {}),
    }, previous);
  }

  function socketPath(sandboxConfig: SandboxConfig): string | undefined {
    const { listen } = sandboxConfig;
    return listen && hybridVsockPath(listen.udsPath, listen.port);
  }

  function place(sandbox: Sandbox, listener: SandboxListener): void {
    sandboxes.set(sandbox.id, sandbox);
    listeners.set(sandbox.id, listener);
    if (listener.path === undefined) sockets.delete(sandbox.id);
    else sockets.set(sandbox.id, listener.path);
  }

  function indexCids(): void {
    byCid.clear();
    for (const sandboxConfig of config.sandboxes) {
      const listener = listeners.get(sandboxConfig.id);
      if (sandboxConfig.cid !== undefined && listener) byCid.set(sandboxConfig.cid, listener);
    }
  }

  async function startListener(listener: SandboxListener): Promise<void> {
    await listener.listen();
    if (listener.path !== undefined) log.info({ sandbox: listener.sandbox.id, socket: listener.path }, 'listening');
  }

  config.sandboxes.forEach((sandboxConfig, index) => {
    const sandbox = build(sandboxConfig, index);
    place(sandbox, new SandboxListener(sandbox, socketPath(sandboxConfig), guestServers));
  });
  indexCids();

  return {
    sandboxes,
    sockets,
    usage: () => Object.fromEntries([...sandboxes].map(([id, sandbox]) => [id, sandbox.usage.snapshot()])),

    flushAudit: () => audit.flush(),

    async listen() {
      await audit.ready();
      // A second host on the same config is refused before it opens an
      // outputs folder: opening clears the temporaries of the first
      // host's writes in progress.
      for (const listener of listeners.values()) if (listener.path !== undefined) await checkSocketPath(listener.path);
      for (const sandbox of sandboxes.values()) await sandbox.open();
      for (const listener of listeners.values()) await startListener(listener);
      if (vsockListener) {
        await vsockListener.listen();
        log.info({ vsock: vsockListener.config, cids: Object.fromEntries([...byCid].map(([c, l]) => [c, l.sandbox.id])) }, 'listening on vsock');
      }
      listening = true;
    },

    async reload(next) {
      // Everything that can fail happens before anything changes.
      const built: Sandbox[] = [];
      const held = new Set(sockets.values());
      try {
        for (const [index, sandboxConfig] of next.sandboxes.entries()) {
          const sandbox = build(sandboxConfig, index, sandboxes.get(sandboxConfig.id));
          built.push(sandbox);
          await sandbox.open();
          // A socket path no listener of this host holds yet must be free
          // to take, or the reload would stop at a sandbox half replaced.
          const path = socketPath(sandboxConfig);
          if (path !== undefined && !held.has(path)) await checkSocketPath(path);
        }
      } catch (error) {
        await Promise.all(built.map((s) => s.close()));
        throw error;
      }

      for (const sandbox of built) sandbox.activate();
      const summary: ReloadSummary = { added: [], removed: [], updated: [], needsRestart: [] };
      if (next.audit.path !== config.audit.path) summary.needsRestart.push('audit.path');
      if (JSON.stringify(next.vsock) !== JSON.stringify(config.vsock)) summary.needsRestart.push('vsock');
      if (JSON.stringify(next.limits) !== JSON.stringify(config.limits)) summary.needsRestart.push('limits');
      log.level = next.logLevel;
      hostAdmission.sandboxCount = next.sandboxes.length;

      const retired: Sandbox[] = [];
      const stopping: SandboxListener[] = [];
      const starting: SandboxListener[] = [];
      const kept = new Set(next.sandboxes.map((s) => s.id));
      for (const [id, listener] of listeners) {
        if (kept.has(id)) continue;
        summary.removed.push(id);
        stopping.push(listener);
        retired.push(listener.sandbox);
        listeners.delete(id);
        sandboxes.delete(id);
        sockets.delete(id);
      }
      for (const sandbox of built) {
        const path = socketPath(sandbox.config);
        const old = listeners.get(sandbox.id);
        if (old) {
          summary.updated.push(sandbox.id);
          retired.push(old.sandbox);
        } else {
          summary.added.push(sandbox.id);
        }
        if (old?.canServe(sandbox, path)) {
          old.swap(sandbox);
          place(sandbox, old);
        } else {
          if (old) stopping.push(old);
          const listener = new SandboxListener(sandbox, path, guestServers);
          starting.push(listener);
          place(sandbox, listener);
        }
      }
      config = { ...next, audit: config.audit, vsock: config.vsock, limits: config.limits };
      indexCids();

      // The old socket goes before its replacement takes the same path.
      await Promise.all(stopping.map((l) => l.close()));
      // TODO(limit): a bind that still fails after checkSocketPath passed
      // (the folder's mode changed in between) leaves that sandbox without
      // a socket until the next good reload; the rest of the policy is new.
      if (listening) for (const listener of starting) await startListener(listener);
      // Calls in progress still hold their sandbox; its pools close when they end.
      for (const sandbox of retired) {
        sandbox.close().catch((error: unknown) => log.warn({ err: error }, 'closing a replaced policy failed'));
      }
      return summary;
    },

    async close() {
      listening = false;
      await vsockListener?.close();
      await Promise.all([...listeners.values()].map((l) => l.close()));
      await Promise.all([...sandboxes.values()].map((s) => s.close()));
      await audit.close();
    },
  };
}
