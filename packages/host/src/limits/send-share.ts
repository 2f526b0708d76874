import { PortholeError } from '@porthole/shared';

import { monotonicMs } from './token-bucket.js';

// Chunks one sandbox may have between a turn and its end while another
// sandbox is active. One: the host's event loop then alternates between a
// chunk of this sandbox and the others' work, not between its streams.
const CHUNKS_PER_SANDBOX = 1;

// A sandbox that started a call this recently counts as active. Calls
// such as Hello are over within one event-loop turn, so whether one is in
// progress says little; whether one started in the last few round trips
// says more.
const ACTIVE_MS = 100;

/** Ends a turn; calling it twice ends it once. */
export type EndTurn = () => void;

interface Streaming {
  streams: number;
  inFlight: number;
  waiting: Array<() => void>;
}

/**
 * The host's bulk streams, shared by sandbox rather than by stream. Each
 * chunk a stream moves (read, paced and handed to its connection) takes a
 * turn. While another sandbox is active (it has a bulk stream open, or
 * started a call in the last ACTIVE_MS), a sandbox has at most
 * CHUNKS_PER_SANDBOX turns at once however many streams it opens, so a
 * sandbox streaming on eight calls gets no more of the host's event loop
 * than a neighbour streaming on one, and leaves room for a neighbour's
 * small calls. A sandbox streaming alone is not held back.
 */
export class SendShare {
  private readonly bySandbox = new Map<string, Streaming>();
  // The two sandboxes that started calls most recently, most recent first:
  // whichever sandbox asks, the latest call of any other is among them.
  private readonly recent: Array<{ sandbox: string; at: number }> = [];

  constructor(private readonly now: () => number = monotonicMs) {}

  /** Notes that `sandbox` started a call. */
  noteCall(sandbox: string): void {
    const at = this.now();
    const [first] = this.recent;
    if (first?.sandbox === sandbox) {
      first.at = at;
      return;
    }
    if (first) this.recent[1] = first;
    this.recent[0] = { sandbox, at };
  }

  /** Opens one bulk stream of `sandbox`; close it when its call ends. */
  open(sandbox: string): BulkStream {
    let entry = this.bySandbox.get(sandbox);
    if (!entry) {
      entry = { streams: 0, inFlight: 0, waiting: [] };
      this.bySandbox.set(sandbox, entry);
    }
    entry.streams++;

    let closed = false;
    return {
      turn: (signal) => this.turn(sandbox, entry, signal),
      close: () => {
        if (closed) return;
        closed = true;
        this.close(sandbox, entry);
      },
    };
  }

  private turn(sandbox: string, entry: Streaming, signal?: AbortSignal): EndTurn | Promise<EndTurn> {
    if (!this.mustWait(sandbox, entry)) return this.grant(sandbox, entry);
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<EndTurn>((resolve, reject) => {
      const start = (): void => {
        signal?.removeEventListener('abort', cancel);
        resolve(this.grant(sandbox, entry));
      };
      const cancel = (): void => {
        const index = entry.waiting.indexOf(start);
        if (index >= 0) entry.waiting.splice(index, 1);
        reject(abortReason(signal));
      };
      signal?.addEventListener('abort', cancel, { once: true });
      entry.waiting.push(start);
    });
  }

  private close(sandbox: string, entry: Streaming): void {
    if (--entry.streams > 0) return;
    this.bySandbox.delete(sandbox);
    // One sandbox fewer may leave another streaming alone.
    for (const [other, streaming] of this.bySandbox) this.wake(other, streaming);
  }

  private mustWait(sandbox: string, entry: Streaming): boolean {
    return entry.inFlight >= CHUNKS_PER_SANDBOX && this.othersActive(sandbox);
  }

  private othersActive(sandbox: string): boolean {
    if (this.bySandbox.size > 1) return true;
    const since = this.now() - ACTIVE_MS;
    return this.recent.some((r) => r.sandbox !== sandbox && r.at > since);
  }

  private grant(sandbox: string, entry: Streaming): EndTurn {
    entry.inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      entry.inFlight--;
      this.wake(sandbox, entry);
    };
  }

  private wake(sandbox: string, entry: Streaming): void {
    while (entry.waiting.length > 0 && !this.mustWait(sandbox, entry)) entry.waiting.shift()!();
  }
}

/** One call's bulk stream in a SendShare. */
export interface BulkStream {
  /**
   * Waits for the sandbox's turn to move one chunk; rejects when `signal`
   * aborts first. The turn lasts until the returned function is called.
   */
  turn(signal?: AbortSignal): EndTurn | Promise<EndTurn>;
  /** The call is over; calling it twice closes once. */
  close(): void;
}

function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new PortholeError('UNAVAILABLE', 'the call ended while it waited to send');
}
