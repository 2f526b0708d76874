import { once } from 'node:events';
import type { Writable } from 'node:stream';

import { PortholeError } from '@porthole/shared';

/**
 * Writes one message to a server stream and, when its buffer is full, waits
 * for the guest to read before returning: a slow reader slows the host's
 * producer instead of growing its memory, and a guest that stops reading
 * altogether (a zero flow-control window) loses the call after `stallMs`.
 */
export async function sendMessage(call: Writable, message: unknown, signal: AbortSignal, stallMs: number): Promise<void> {
  if (call.write(message)) return;
  const stall = AbortSignal.timeout(stallMs);
  try {
    await once(call, 'drain', { signal: AbortSignal.any([signal, stall]) });
  } catch (error) {
    if (stall.aborted && !signal.aborted) {
      throw new PortholeError('TIMEOUT', `the guest read nothing for ${stallMs} ms`, { limit: stallMs });
    }
    throw error;
  }
}
