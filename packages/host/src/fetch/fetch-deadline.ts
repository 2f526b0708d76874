import { EventEmitter } from 'node:events';

/**
 * What stops one fetch: its deadline passing, or the guest cancelling.
 * undici takes it as the request's `signal`, in the EventEmitter form it
 * documents (`aborted`, `reason`, an 'abort' event). An AbortController per
 * fetch costs far more than its construction: each is tracked until
 * collected. A real AbortSignal is made only when a send has to wait.
 */
export class FetchDeadline extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  private readonly timer: NodeJS.Timeout;
  private controller: AbortController | undefined;

  constructor(timeoutMs: number) {
    super();
    this.timer = setTimeout(() => this.abort(new Error('the fetch deadline passed')), timeoutMs);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    clearTimeout(this.timer);
    this.controller?.abort(reason);
    this.emit('abort');
  }

  /** An AbortSignal that follows this deadline, made on first use. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Stops the timer once the fetch is over. */
  clear(): void {
    clearTimeout(this.timer);
  }
}
