// Every admitted call takes a token: one answer serves them all.
const TAKEN = Object.freeze({ ok: true } as const);

/**
 * A token bucket: `capacity` tokens, refilled at `ratePerSecond`. Time comes
 * from a monotonic clock so wall-clock jumps neither grant nor steal tokens.
 */
export class TokenBucket {
  readonly capacity: number;
  readonly ratePerSecond: number;
  private tokens: number;
  private updatedMs: number;

  constructor(ratePerSecond: number, capacity: number, now = monotonicMs()) {
    if (!(ratePerSecond > 0) || !(capacity > 0)) {
      throw new RangeError('a token bucket needs a positive rate and capacity');
    }
    this.ratePerSecond = ratePerSecond;
    this.capacity = capacity;
    this.tokens = capacity;
    this.updatedMs = now;
  }

  /**
   * Takes `count` tokens if there are that many. Otherwise takes none and
   * returns how many milliseconds until there will be.
   */
  take(count = 1, now = monotonicMs()): { ok: true } | { ok: false; retryAfterMs: number } {
    this.refill(now);
    if (this.tokens >= count) {
      this.tokens -= count;
      return TAKEN;
    }
    const missing = Math.min(count, this.capacity) - this.tokens;
    return { ok: false, retryAfterMs: Math.max(1, Math.ceil((missing / this.ratePerSecond) * 1000)) };
  }

  /**
   * Takes `count` tokens, going into debt if needed, and returns how long
   * the caller should pause so the average rate holds. Used for bytes, where
   * a chunk already read must still be sent.
   */
  consume(count: number, now = monotonicMs()): number {
    this.refill(now);
    this.tokens -= count;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.ratePerSecond) * 1000);
  }

  /** Tokens now; negative while consume() has the bucket in debt. */
  balance(now = monotonicMs()): number {
    this.refill(now);
    return this.tokens;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedMs);
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedMs = now;
  }
}

export function monotonicMs(): number {
  return performance.now();
}
