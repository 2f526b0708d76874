import { describe, expect, it } from 'vitest';

import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then refuses with the time until the next token', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.take(1, 0), bucket.take(1, 0), bucket.take(1, 0)]).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    expect(bucket.take(1, 0)).toEqual({ ok: false, retryAfterMs: 100 });
    expect(bucket.take(1, 50)).toEqual({ ok: false, retryAfterMs: 50 });
    expect(bucket.take(1, 100)).toEqual({ ok: true });
  });

  it('never holds more than its capacity after a long pause', () => {
    const bucket = new TokenBucket(1000, 2, 0);
    bucket.take(2, 0);
    expect(bucket.take(3, 60_000)).toMatchObject({ ok: false });
    expect(bucket.take(2, 60_000)).toEqual({ ok: true });
  });

  it('goes into debt for bytes already read and says how long to pause', () => {
    const bucket = new TokenBucket(1000, 100, 0);
    expect(bucket.consume(100, 0)).toBe(0);
    expect(bucket.consume(500, 0)).toBe(500);
    expect(bucket.consume(1, 400)).toBe(101);
  });

  it('ignores a clock that goes backwards', () => {
    const bucket = new TokenBucket(10, 1, 1000);
    bucket.take(1, 1000);
    expect(bucket.take(1, 500)).toMatchObject({ ok: false });
  });

  it.each([[0, 1], [1, 0], [Number.NaN, 1]])('refuses rate %s and capacity %s', (rate, capacity) => {
    expect(() => new TokenBucket(rate, capacity)).toThrow('a token bucket needs a positive rate and capacity');
  });
});
