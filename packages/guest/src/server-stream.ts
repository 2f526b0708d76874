import type { ClientReadableStream } from '@grpc/grpc-js';
import { PortholeError } from '@porthole/shared';

type Part<K extends string> = { [key in K]?: unknown } & { chunk?: Buffer };

/**
 * Splits a head-then-chunks server stream: resolves with the head once it
 * arrives (or rejects with the host's error), and gives the chunks as an
 * async iterable that pulls from the wire only as fast as it is read.
 */
export async function openServerStream<K extends string, M extends Part<K>>(
  call: ClientReadableStream<M>,
  headKey: K,
  signal?: AbortSignal,
): Promise<{ head: NonNullable<M[K]>; rest: () => AsyncGenerator<Buffer> }> {
  const onAbort = (): void => call.cancel();
  if (signal?.aborted) call.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  const messages = call[Symbol.asyncIterator]() as AsyncIterator<M>;

  let first: IteratorResult<M>;
  try {
    first = await messages.next();
  } catch (error) {
    signal?.removeEventListener('abort', onAbort);
    throw PortholeError.from(error);
  }
  const head = first.done ? undefined : first.value[headKey];
  if (head === undefined || head === null) {
    signal?.removeEventListener('abort', onAbort);
    call.cancel();
    throw new PortholeError('UNAVAILABLE', `the host's stream did not start with a ${headKey}`);
  }

  async function* rest(): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        let next: IteratorResult<M>;
        try {
          next = await messages.next();
        } catch (error) {
          throw PortholeError.from(error);
        }
        if (next.done) return;
        if (next.value.chunk) yield next.value.chunk;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // A reader that stops early tells the host to stop producing.
      call.cancel();
    }
  }

  return { head: head as NonNullable<M[K]>, rest };
}
