import type { SandboxConfig } from '@porthole/shared';
import type { Logger } from 'pino';

import { SandboxUsage } from '../accounting/sandbox-usage.js';
import { CallScope, type ActionName, type ScopeDeps } from '../actions/call-scope.js';
import { ArtifactStore } from '../artifacts/artifact-store.js';
import type { AuditLog } from '../audit/audit-log.js';
import { ConnectionBudget } from '../fetch/connection-budget.js';
import { UpstreamPool, type EgressGuard, type Resolver } from '../fetch/upstream-pool.js';
import { CallAdmission } from '../limits/call-admission.js';
import type { HostAdmission } from '../limits/host-admission.js';
import type { SendShare } from '../limits/send-share.js';
import { StreamHold } from '../limits/stream-hold.js';
import { OutputStore } from '../outputs/output-store.js';
import { FetchAllowList } from '../policy/fetch-policy.js';

export interface SandboxDeps {
  audit: AuditLog;
  log: Logger;
  /** The host's cap on upstream sockets, shared by every sandbox. */
  upstreamBudget: ConnectionBudget;
  /** The host's cap on calls in progress, shared fairly by every sandbox. */
  hostAdmission?: HostAdmission;
  /** The host's bulk sends, shared by sandbox rather than by stream. */
  sendShare?: SendShare;
  /** Position in the config, for messages: `sandboxes[2]`. */
  where: string;
  /** Charge calls their host CPU time (limits.cpuAccounting). */
  meterCpu: boolean;
  resolver?: Resolver;
  egressGuard?: EgressGuard;
}

/**
 * Everything the host holds for one sandbox. A connection is bound to a
 * Sandbox by the socket it arrived on, so every call reaching these methods
 * already carries its identity.
 */
export class Sandbox {
  readonly id: string;
  readonly admission: CallAdmission;
  readonly usage: SandboxUsage;
  readonly artifacts: ArtifactStore | undefined;
  readonly outputs: OutputStore | undefined;
  readonly allowList: FetchAllowList | undefined;
  /** Holds back new calls on the sandbox's connections; kept across reloads. */
  readonly streamHold: StreamHold;
  readonly log: Logger;
  private pool: UpstreamPool | undefined;
  private scopeDeps: ScopeDeps | undefined;
  /** The outputs store of the policy this one replaces, kept for its folder. */
  private readonly outputsReused: boolean;

  /**
   * @param previous the same sandbox under the policy being replaced by a
   * reload: its usage totals carry over, and its outputs store when the
   * folder is the same, so quotas keep counting writes in progress.
   */
  constructor(readonly config: SandboxConfig, private readonly deps: SandboxDeps, previous?: Sandbox) {
    this.id = config.id;
    this.log = deps.log.child({ sandbox: config.id });
    this.streamHold = previous?.streamHold ?? new StreamHold(this.log);
    this.admission = new CallAdmission(config.limits, {
      sandbox: config.id,
      ...(deps.hostAdmission ? { host: deps.hostAdmission } : {}),
      hold: (ms) => this.streamHold.hold(ms),
    });
    this.artifacts = config.artifacts === undefined ? undefined : new ArtifactStore(config.artifacts);
    this.usage = previous?.usage ?? new SandboxUsage();
    const kept = previous?.outputs;
    this.outputsReused = config.outputs !== undefined && kept?.policy.dir === config.outputs.dir;
    this.outputs = config.outputs && (this.outputsReused ? kept : new OutputStore(config.outputs));
    this.allowList = config.fetch && new FetchAllowList(config.fetch);
  }

  /** Upstream sockets for fetches, made on the first one: most sandboxes of a big host fetch little or never. */
  get upstream(): UpstreamPool {
    if (!this.pool) {
      const budget = new ConnectionBudget(this.config.fetch?.maxConnections ?? 0, `sandbox ${this.id}`, this.deps.upstreamBudget);
      this.pool = new UpstreamPool(budget, this.deps.resolver, this.deps.egressGuard);
    }
    return this.pool;
  }

  /** Whether calls are charged their host CPU time. */
  get meterCpu(): boolean {
    return this.deps.meterCpu;
  }

  async open(): Promise<void> {
    await this.allowList?.loadSecrets(`${this.deps.where}.fetch`);
    if (!this.outputsReused) await this.outputs?.open();
  }

  /**
   * Puts this policy in force. Called when it replaces another by a reload,
   * after every new policy opened: a reload that fails leaves the quotas of
   * a kept outputs store as they were.
   */
  activate(): void {
    if (this.outputsReused && this.config.outputs) this.outputs?.reconfigure(this.config.outputs);
  }

  scope(action: ActionName): CallScope {
    // What every call's scope shares, made once per policy, not per call.
    this.scopeDeps ??= {
      sandbox: this.id,
      admission: this.admission,
      audit: this.deps.audit,
      usage: this.usage,
      log: this.log,
      stallMs: this.config.limits.stallTimeoutMs,
      ...(this.deps.sendShare ? { sendShare: this.deps.sendShare } : {}),
    };
    return new CallScope(this.scopeDeps, action);
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
