import { setTimeout as sleep } from 'node:timers/promises';

import { status, type ServiceError } from '@grpc/grpc-js';
import { ERROR_METADATA, PortholeError } from '@porthole/shared';

/**
 * How the SDK retries calls that are safe to repeat when the connection to
 * the host is lost (a VMM restart or snapshot restore resets vsock).
 */
export interface RetryOptions {
  /** Tries in all, the first included; 1 turns retries off. Omitted: 6. */
  attempts?: number;
  /** Wait before the first retry, doubled each time (with jitter). Omitted: 100. */
  baseDelayMs?: number;
  /** Longest wait between two tries. Omitted: 2000. */
  maxDelayMs?: number;
  /** No retry starts after this long since the first try. Omitted: 30000. */
  totalMs?: number;
}

// Six tries over about 3 s cover a VMM restart or snapshot restore; a host
// that stays away longer is down, and the caller should hear so.
const DEFAULTS: Required<RetryOptions> = { attempts: 6, baseDelayMs: 100, maxDelayMs: 2_000, totalMs: 30_000 };
const MAX_ATTEMPTS = 100;
const MAX_DELAY_MS = 60_000;

/** Retry options checked once, when the client is built. */
export class RetryPolicy {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly totalMs: number;

  constructor(options: RetryOptions = {}) {
    const merged = { ...DEFAULTS, ...options };
    const check = (name: keyof RetryOptions, min: number, max: number): number => {
      const value = merged[name];
      if (!Number.isInteger(value) || value < min || value > max) {
        throw new PortholeError('INVALID_ARGUMENT', `retry.${name} must be an integer from ${min} to ${max}, got ${value}`, { field: `retry.${name}` });
      }
      return value;
    };
    this.attempts = check('attempts', 1, MAX_ATTEMPTS);
    this.baseDelayMs = check('baseDelayMs', 0, MAX_DELAY_MS);
    this.maxDelayMs = check('maxDelayMs', 0, MAX_DELAY_MS);
    this.totalMs = check('totalMs', 0, 10 * MAX_DELAY_MS);
  }

  /**
   * Runs `attempt` until it succeeds, fails with something other than a lost
   * connection, or the budget is spent. Only calls that are safe to repeat
   * go through here; `attempt` gets the try number (0 first).
   */
  async run<T>(attempt: (index: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const started = Date.now();
    for (let index = 0; ; index++) {
      try {
        return await attempt(index);
      } catch (error) {
        const lastTry = index + 1 >= this.attempts;
        const delay = this.delay(index);
        if (!isConnectionLoss(error) || lastTry || Date.now() - started + delay > this.totalMs || signal?.aborted) {
          throw PortholeError.from(error);
        }
        await sleep(delay, undefined, signal ? { signal } : {}).catch(() => undefined);
      }
    }
  }

  private delay(index: number): number {
    const exponential = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** index);
    // Full jitter on the upper half: guests restored from one snapshot must
    // not all come back on the same tick.
    return Math.round(exponential / 2 + Math.random() * (exponential / 2));
  }
}

/**
 * True when the call failed because the connection to the host went away
 * (no listener, reset, dropped), not because the host refused it: those
 * carry a Porthole reason in their metadata and are never retried.
 */
export function isConnectionLoss(error: unknown): boolean {
  const wire = error instanceof PortholeError ? error.cause : error;
  if (!isServiceError(wire)) return SOCKET_ERRORS.has(String((wire as { code?: unknown } | undefined)?.code));
  if (wire.metadata.get(ERROR_METADATA.reason).length > 0) return false;
  // grpc-js reports a dropped HTTP/2 session as UNAVAILABLE, and a stream
  // cut by the peer's RST as INTERNAL with this text.
  return wire.code === status.UNAVAILABLE || (wire.code === status.INTERNAL && /RST_STREAM|Connection dropped|ECONNRESET|EPIPE/.test(wire.details));
}

const SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ENOENT', 'ERR_STREAM_PREMATURE_CLOSE']);

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && typeof (error as ServiceError).code === 'number' && 'metadata' in error;
}
