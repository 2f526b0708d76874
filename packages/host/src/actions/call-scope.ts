import { PortholeError } from '@porthole/shared';
import type { Logger } from 'pino';

import type { Writable } from 'node:stream';

import type { CpuAccount } from '../accounting/cpu-meter.js';
import type { SandboxUsage } from '../accounting/sandbox-usage.js';
import type { AuditEntry, AuditLog } from '../audit/audit-log.js';
import type { CallAdmission, Direction } from '../limits/call-admission.js';
import type { BulkStream, EndTurn, SendShare } from '../limits/send-share.js';
import { sendMessage, type Stoppable } from './send-message.js';

export type ActionName = 'Hello' | 'FetchUrl' | 'ListArtifacts' | 'ReadArtifact' | 'WriteOutput';

export interface ScopeDeps {
  sandbox: string;
  admission: CallAdmission;
  audit: AuditLog;
  usage: SandboxUsage;
  log: Logger;
  /** How long a guest may leave a stream unread. */
  stallMs: number;
  /** The host's bulk sends, shared by sandbox. */
  sendShare?: SendShare;
}

// Reasons that mean the guest asked for something it may not have; the
// rest mean the host tried and could not.
const DENIALS = new Set(['POLICY_DENIED', 'RATE_LIMITED', 'QUOTA_EXCEEDED', 'INVALID_ARGUMENT', 'NOT_FOUND', 'TOO_LARGE']);

// The reason a signal carries once its call has ended. One fixed error:
// abort() without a reason builds a DOMException and its stack every time.
const CALL_ENDED = new Error('the call ended');

/**
 * The life of one call: admission under the sandbox's limits, its audit
 * line, and the single place where host errors become wire errors.
 */
export class CallScope implements CpuAccount, Stoppable {
  target = '';
  bytesIn = 0;
  bytesOut = 0;
  /** Time upstream servers took, for fetches. */
  upstreamMs = 0;
  /** Charged by runMetered while the call's code runs (see addCpu). */
  cpuMs = 0;
  private readonly started = performance.now();
  private release: (() => void) | undefined;
  private finished = false;
  // Made on first use: most calls never read the signal.
  private controller: AbortController | undefined;
  private bulk: BulkStream | undefined;
  private cancelled: PortholeError | undefined;
  private cancelHooks: ((reason: PortholeError) => void)[] | undefined;

  constructor(
    private readonly deps: ScopeDeps,
    readonly action: ActionName,
  ) {}

  /** Aborted when the guest cancels or the call ends either way. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.finished) this.controller.abort(CALL_ENDED);
    }
    return this.controller.signal;
  }

  /** Whether the call has succeeded or failed. */
  get ended(): boolean {
    return this.finished;
  }

  /** Throws RATE_LIMITED when the sandbox is over its rate or concurrency. */
  admit(): void {
    this.release = this.deps.admission.admit();
    this.deps.sendShare?.noteCall(this.deps.sandbox);
  }

  cancel(): void {
    // grpc-js reports every call's stream closing as 'cancelled', also after
    // the call ended normally; then the signal is already aborted, and an
    // error built here would only cost its stack trace.
    if (this.finished || this.cancelled) return;
    const reason = new PortholeError('UNAVAILABLE', 'the guest cancelled the call');
    this.cancelled = reason;
    this.controller ??= new AbortController();
    this.controller.abort(reason);
    for (const hook of [...(this.cancelHooks ?? [])]) hook(reason);
  }

  /**
   * Calls `hook` when the guest cancels, at once if it already has, and
   * returns the function that removes it. Unlike a listener on `signal`,
   * this makes no controller, which the end of the call would then abort.
   */
  onCancel(hook: (reason: PortholeError) => void): () => void {
    if (this.cancelled) {
      hook(this.cancelled);
      return () => undefined;
    }
    const hooks = (this.cancelHooks ??= []);
    hooks.push(hook);
    return () => {
      const at = hooks.indexOf(hook);
      if (at >= 0) hooks.splice(at, 1);
    };
  }

  /**
   * Charges a slice of host CPU time to this call, and to the sandbox's
   * CPU budget as it is spent, so calls admitted after it see the debt.
   * A call refused at admission did no work for the guest; charging it
   * would push the honest retry-after it was just given further away.
   * Nor is an ended call charged: its usage and audit line are closed, and
   * what still runs in its context (gRPC closing the stream, the audit
   * flush its line started) would move a retry-after given since.
   */
  addCpu(ms: number): void {
    if (this.finished) return;
    this.cpuMs += ms;
    if (this.release) this.deps.admission.chargeCpu(ms);
  }

  /**
   * Sends one stream message; returns a promise only when the guest's buffer
   * is full, settled once it has room or `stop` aborts (see sendMessage).
   */
  send(call: Writable, message: unknown, stop: Stoppable = this): Promise<void> | undefined {
    return sendMessage(call, message, stop, this.deps.stallMs);
  }

  /**
   * Waits for the sandbox's turn to do one step of bulk work, such as
   * reading a block to send (see SendShare); the returned function ends it.
   */
  bulkTurn(): EndTurn | Promise<EndTurn> {
    const share = this.deps.sendShare;
    if (!share || this.finished) return noTurn;
    this.bulk ??= share.open(this.deps.sandbox);
    return this.bulk.turn(this.signal);
  }

  /**
   * Moves `count` payload bytes under the sandbox's byte rate for
   * `direction`; returns a promise only when they must wait for it.
   */
  pace(count: number, direction: Direction): Promise<void> | undefined {
    if (direction === 'in') this.bytesIn += count;
    else this.bytesOut += count;
    const waitMs = this.deps.admission.delayFor(count, direction);
    return waitMs > 0 ? sleep(waitMs, this.signal) : undefined;
  }

  succeed(): void {
    this.finish('allowed', null, null);
  }

  /** Records the failure and returns what the guest is told. */
  fail(error: unknown): PortholeError {
    const wire = this.toWire(error);
    const decision = DENIALS.has(wire.code) ? 'denied' : 'failed';
    this.finish(decision, wire.code, wire.message);
    return wire;
  }

  private toWire(error: unknown): PortholeError {
    if (error instanceof PortholeError) return error;
    // Whatever broke after the guest cancelled broke because it cancelled.
    if (this.cancelled) return this.cancelled;
    // Anything else is a host fault: its text may hold host paths, so the
    // guest gets a fixed message and the log gets the detail.
    this.deps.log.error({ err: error, action: this.action, target: this.target }, 'action failed');
    return new PortholeError('UNAVAILABLE', `${this.action} failed inside the host; see the host log`);
  }

  private finish(decision: 'allowed' | 'denied' | 'failed', reason: string | null, message: string | null): void {
    if (this.finished) return;
    this.finished = true;
    this.release?.();
    this.controller?.abort(CALL_ENDED);
    this.bulk?.close();
    // One object serves as the call's cost and its audit line.
    const entry: AuditEntry = {
      time: new Date().toISOString(),
      sandbox: this.deps.sandbox,
      action: this.action,
      target: this.target,
      decision,
      reason,
      message,
      bytes: this.bytesIn + this.bytesOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      upstreamMs: round(this.upstreamMs),
      cpuMs: round(this.cpuMs),
      durationMs: round(performance.now() - this.started),
    };
    this.deps.usage.record(decision, entry);
    this.deps.audit.record(entry);
  }
}

function noTurn(): void {}

/** Resolves after `ms`, or as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
