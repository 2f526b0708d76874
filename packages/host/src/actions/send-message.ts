import { once } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * Writes one message to a server stream and, when its buffer is full, waits
 * for the guest to read before returning: a slow reader slows the host's
 * producer instead of growing its memory.
 */
export async function sendMessage(call: Writable, message: unknown, signal: AbortSignal): Promise<void> {
  if (call.write(message)) return;
  await once(call, 'drain', { signal });
}
