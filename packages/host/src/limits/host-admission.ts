import { PortholeError } from '@porthole/shared';

// Past this share of the host's call slots, a sandbox already holding its
// fair share is refused, so the slots left go to the others.
const CONTENDED = 0.75;
const RETRY_MS = 50;

/**
 * The host's cap on calls in progress across all sandboxes, shared fairly:
 * when slots run short, a sandbox holding an equal share of them (among
 * all configured sandboxes) gets no more, so the rest stay open to others.
 */
export class HostAdmission {
  private inFlight = 0;
  private readonly bySandbox = new Map<string, number>();

  /** @param sandboxes how many sandboxes share the slots. */
  constructor(readonly maxConcurrent: number, private sandboxes: number) {}

  set sandboxCount(count: number) {
    this.sandboxes = count;
  }

  /** Takes a slot for `sandbox` or throws RATE_LIMITED; returns its release. */
  admit(sandbox: string): () => void {
    const mine = this.bySandbox.get(sandbox) ?? 0;
    if (this.inFlight >= this.maxConcurrent) {
      throw new PortholeError('RATE_LIMITED', `the host is serving ${this.inFlight} calls, its limit is ${this.maxConcurrent}`, { retryAfterMs: RETRY_MS, limit: this.maxConcurrent });
    }
    if (this.inFlight >= this.maxConcurrent * CONTENDED) {
      const share = Math.max(1, Math.floor(this.maxConcurrent / Math.max(1, this.sandboxes)));
      if (mine >= share) {
        throw new PortholeError('RATE_LIMITED', `the host is busy and sandbox ${sandbox} holds its fair share of ${share} calls`, { retryAfterMs: RETRY_MS, limit: share });
      }
    }
    this.inFlight++;
    this.bySandbox.set(sandbox, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      const left = (this.bySandbox.get(sandbox) ?? 1) - 1;
      if (left === 0) this.bySandbox.delete(sandbox);
      else this.bySandbox.set(sandbox, left);
    };
  }
}
