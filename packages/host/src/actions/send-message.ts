import type { Writable } from 'node:stream';

import { PortholeError } from '@porthole/shared';

/**
 * Writes one message to a server stream and, when its buffer is full, waits
 * for the guest to read before returning: a slow reader slows the host's
 * producer instead of growing its memory, and a guest that stops reading
 * altogether (a zero flow-control window) loses the call after `stallMs`.
 */
export function sendMessage(call: Writable, message: unknown, signal: AbortSignal, stallMs: number): Promise<void> | undefined {
  if (call.write(message)) return undefined;
  return waitForDrain(call, signal, stallMs);
}

// One timer and four listeners, all removed when the wait ends. A stream
// waits here once per full buffer, thousands of times per large read:
// AbortSignal.timeout would leave a live timer per wait until it fires,
// and AbortSignal.any a dependent signal the call's signal keeps.
function waitForDrain(call: Writable, signal: AbortSignal, stallMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const end = (error?: unknown): void => {
      clearTimeout(timer);
      call.off('drain', onDrain);
      call.off('close', onClose);
      call.off('error', end);
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onDrain = (): void => end();
    const onClose = (): void => end(new PortholeError('UNAVAILABLE', 'the stream closed while the host was sending'));
    const onAbort = (): void => end(signal.reason);
    const timer = setTimeout(() => end(new PortholeError('TIMEOUT', `the guest read nothing for ${stallMs} ms`, { limit: stallMs })), stallMs);
    if (signal.aborted) {
      onAbort();
      return;
    }
    call.on('drain', onDrain);
    call.on('close', onClose);
    call.on('error', end);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
