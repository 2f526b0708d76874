import type { Writable } from 'node:stream';

import { PortholeError } from '@porthole/shared';

/** Whatever can stop a wait; its signal is read only if there is a wait. */
export interface Stoppable {
  readonly signal: AbortSignal;
}

/**
 * Writes one message to a server stream. When its buffer is full, returns a
 * promise that settles once the guest has read: a slow reader slows the
 * host's producer instead of growing its memory, and a guest that stops
 * reading altogether (a zero flow-control window) loses the call after
 * `stallMs`. It rejects with the signal's reason when `stop` aborts.
 *
 * No promise when the message fits, and plain listeners and one cleared
 * timer when it does not: a large read waits thousands of times, and
 * AbortSignal.timeout would leave a live timer per wait until it fires,
 * AbortSignal.any a dependent signal the call's signal keeps.
 */
export function sendMessage(call: Writable, message: unknown, stop: Stoppable, stallMs: number): Promise<void> | undefined {
  if (call.write(message)) return undefined;
  const signal = stop.signal;
  return new Promise<void>((resolve, reject) => {
    const settle = (failed: boolean, error?: unknown): void => {
      clearTimeout(timer);
      call.off('drain', onDrain);
      call.off('error', onError);
      call.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
      if (failed) reject(error);
      else resolve();
    };
    const onDrain = (): void => settle(false);
    const onError = (error: unknown): void => settle(true, error);
    const onClose = (): void => settle(true, new PortholeError('UNAVAILABLE', 'the stream closed while the host was sending'));
    const onAbort = (): void => settle(true, signal.reason);
    const timer = setTimeout(() => {
      settle(true, new PortholeError('TIMEOUT', `the guest read nothing for ${stallMs} ms`, { limit: stallMs }));
    }, stallMs);
    call.on('drain', onDrain);
    call.on('error', onError);
    call.on('close', onClose);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
