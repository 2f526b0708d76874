import { PortholeError, type Limits } from '@porthole/shared';

import type { HostAdmission } from './host-admission.js';
import { TokenBucket } from './token-bucket.js';

// A refused caller retries after this when the wait depends on other calls
// finishing rather than on the clock.
const CONCURRENCY_RETRY_MS = 50;

// Byte pacing lets this much through at full speed before throttling, so
// small transfers never wait.
const BYTE_BURST_SECONDS = 0.25;

// A CPU budget may be spent this far ahead, so one call's cost does not
// refuse the next.
const CPU_BURST_SECONDS = 1;

// A sandbox refused more calls than its burst, and then more than its
// request rate, has its new calls held back for the time that allowance
// takes to half refill, within these bounds: long enough that its held
// calls meet refilled tokens instead of more refusals, short enough that
// a held call still ends soon.
const HOLD_MIN_MS = 50;
const HOLD_MAX_MS = 1_000;

export type Direction = 'in' | 'out';

export interface AdmissionDeps {
  /** The sandbox's id, for the host's fair share. */
  sandbox?: string;
  /** The host's cap on calls in progress, shared by every sandbox. */
  host?: HostAdmission;
  /**
   * Holds back the sandbox's new calls for `ms`; asked when the sandbox is
   * refused faster than its refusal allowance.
   */
  hold?: (ms: number) => void;
}

/**
 * Admits a sandbox's calls under its request rate, concurrency and CPU
 * limits and the host's shared cap, and paces the bytes its calls move in
 * each direction.
 */
export class CallAdmission {
  private readonly requests: TokenBucket;
  private readonly bytes: Record<Direction, TokenBucket>;
  private readonly cpu: TokenBucket | undefined;
  private readonly maxConcurrent: number;
  // Refusals cost the host a gRPC call each, as much as a Hello: a sandbox
  // may be refused as often as it may call, and is held back past that.
  private readonly refusals: TokenBucket;
  private readonly holdMs: number;
  private inFlight = 0;

  constructor(limits: Limits, private readonly deps: AdmissionDeps = {}) {
    this.requests = new TokenBucket(limits.requestsPerSecond, limits.burst);
    this.refusals = new TokenBucket(limits.requestsPerSecond, limits.burst);
    this.holdMs = Math.min(HOLD_MAX_MS, Math.max(HOLD_MIN_MS, Math.ceil((limits.burst / 2 / limits.requestsPerSecond) * 1000)));
    this.bytes = {
      in: byteBucket(limits.bytesInPerSecond ?? limits.bytesPerSecond),
      out: byteBucket(limits.bytesOutPerSecond ?? limits.bytesPerSecond),
    };
    this.cpu = limits.cpuMsPerSecond === undefined
      ? undefined
      : new TokenBucket(limits.cpuMsPerSecond, limits.cpuMsPerSecond * CPU_BURST_SECONDS);
    this.maxConcurrent = limits.maxConcurrent;
  }

  get callsInFlight(): number {
    return this.inFlight;
  }

  /**
   * Admits one call or throws RATE_LIMITED. The returned function releases
   * the call's concurrency slots; calling it twice releases once.
   */
  admit(): () => void {
    try {
      return this.take();
    } catch (error) {
      if (!this.refusals.take().ok) this.deps.hold?.(this.holdMs);
      throw error;
    }
  }

  private take(): () => void {
    if (this.inFlight >= this.maxConcurrent) {
      throw new PortholeError(
        'RATE_LIMITED',
        `${this.inFlight} calls are in progress, the limit is ${this.maxConcurrent}`,
        { retryAfterMs: CONCURRENCY_RETRY_MS, limit: this.maxConcurrent },
      );
    }
    // A request token first: every attempt costs one, so calls refused for
    // CPU cannot be sent faster than the request rate.
    const taken = this.requests.take();
    if (!taken.ok) {
      throw new PortholeError(
        'RATE_LIMITED',
        `request rate is over ${this.requests.ratePerSecond}/s (burst ${this.requests.capacity})`,
        { retryAfterMs: taken.retryAfterMs, limit: this.requests.ratePerSecond },
      );
    }
    const cpuBalance = this.cpu?.balance() ?? 0;
    if (this.cpu && cpuBalance < 0) {
      throw new PortholeError(
        'RATE_LIMITED',
        `the sandbox used its host CPU budget of ${this.cpu.ratePerSecond} ms per second`,
        { retryAfterMs: Math.ceil((-cpuBalance / this.cpu.ratePerSecond) * 1000), limit: this.cpu.ratePerSecond },
      );
    }
    const releaseHost = this.deps.host?.admit(this.deps.sandbox ?? '');

    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      releaseHost?.();
    };
  }

  /**
   * Takes `count` bytes from the byte rate of `direction` and returns how
   * long, in ms, the caller must wait before moving them (0: at once).
   */
  delayFor(count: number, direction: Direction): number {
    return this.bytes[direction].consume(count);
  }

  /** Charges a finished call's CPU time to the budget, if there is one. */
  chargeCpu(ms: number): void {
    this.cpu?.consume(ms);
  }
}

function byteBucket(perSecond: number): TokenBucket {
  return new TokenBucket(perSecond, Math.max(64 * 1024, Math.floor(perSecond * BYTE_BURST_SECONDS)));
}
