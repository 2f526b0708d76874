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

export type Direction = 'in' | 'out';

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
  private inFlight = 0;

  constructor(limits: Limits, private readonly sandbox = '', private readonly host?: HostAdmission) {
    this.requests = new TokenBucket(limits.requestsPerSecond, limits.burst);
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
    const releaseHost = this.host?.admit(this.sandbox);

    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      releaseHost?.();
    };
  }

  /** Waits as long as moving `count` more bytes in `direction` requires. */
  async pace(count: number, direction: Direction, signal?: AbortSignal): Promise<void> {
    const waitMs = this.bytes[direction].consume(count);
    if (waitMs > 0) await sleep(waitMs, signal);
  }

  /** Charges a finished call's CPU time to the budget, if there is one. */
  chargeCpu(ms: number): void {
    this.cpu?.consume(ms);
  }
}

function byteBucket(perSecond: number): TokenBucket {
  return new TokenBucket(perSecond, Math.max(64 * 1024, Math.floor(perSecond * BYTE_BURST_SECONDS)));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
