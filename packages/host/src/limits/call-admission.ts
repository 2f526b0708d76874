import { PortholeError, type Limits } from '@porthole/shared';

import { TokenBucket } from './token-bucket.js';

// A refused caller retries after this when the wait depends on other calls
// finishing rather than on the clock.
const CONCURRENCY_RETRY_MS = 50;

// Byte pacing lets this much through at full speed before throttling, so
// small transfers never wait.
const BYTE_BURST_SECONDS = 0.25;

/**
 * Admits a sandbox's calls under its request rate and concurrency limits,
 * and paces the bytes its calls move.
 */
export class CallAdmission {
  private readonly requests: TokenBucket;
  private readonly bytes: TokenBucket;
  private readonly maxConcurrent: number;
  private inFlight = 0;

  constructor(limits: Limits) {
    this.requests = new TokenBucket(limits.requestsPerSecond, limits.burst);
    this.bytes = new TokenBucket(
      limits.bytesPerSecond,
      Math.max(64 * 1024, Math.floor(limits.bytesPerSecond * BYTE_BURST_SECONDS)),
    );
    this.maxConcurrent = limits.maxConcurrent;
  }

  get callsInFlight(): number {
    return this.inFlight;
  }

  /**
   * Admits one call or throws RATE_LIMITED. The returned function releases
   * the call's concurrency slot; calling it twice releases once.
   */
  admit(): () => void {
    if (this.inFlight >= this.maxConcurrent) {
      throw new PortholeError(
        'RATE_LIMITED',
        `${this.inFlight} calls are in progress, the limit is ${this.maxConcurrent}`,
        { retryAfterMs: CONCURRENCY_RETRY_MS, limit: this.maxConcurrent },
      );
    }
    const taken = this.requests.take();
    if (!taken.ok) {
      throw new PortholeError(
        'RATE_LIMITED',
        `request rate is over ${this.requests.ratePerSecond}/s (burst ${this.requests.capacity})`,
        { retryAfterMs: taken.retryAfterMs, limit: this.requests.ratePerSecond },
      );
    }

    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
    };
  }

  /** Waits as long as moving `count` more bytes requires. */
  async pace(count: number, signal?: AbortSignal): Promise<void> {
    const waitMs = this.bytes.consume(count);
    if (waitMs > 0) await sleep(waitMs, signal);
  }
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
