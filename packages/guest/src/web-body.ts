import type { ClientReadableStream } from '@grpc/grpc-js';
import { PortholeError } from '@porthole/shared';

type Part<K extends string> = { [key in K]?: unknown } & { chunk?: Buffer };

// Bytes the body holds for a reader that is slower than the wire; past it
// the call is paused and HTTP/2 flow control holds the host back.
const BUFFERED_BYTES = 256 * 1024;

/**
 * Opens a head-then-chunks server stream as a WHATWG body: resolves with the
 * head once it arrives (or rejects with the host's error), and the body is a
 * ReadableStream fed straight from the call's messages. A Node Readable and
 * its web adapter would cost an async iterator, a generator and two stream
 * queues per call; this is one queue, paused while the reader lags.
 */
export function openWebBody<K extends string, M extends Part<K>>(
  call: ClientReadableStream<M>,
  headKey: K,
  signal?: AbortSignal,
): Promise<{ head: NonNullable<M[K]>; body: ReadableStream<Uint8Array> }> {
  return new Promise((resolve, reject) => {
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let done = false;

    const onAbort = (): void => call.cancel();
    const finish = (): void => {
      done = true;
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: PortholeError): void => {
      finish();
      if (controller) controller.error(error);
      else reject(error);
    };

    call.on('data', (message: M) => {
      if (done) return;
      if (controller) {
        const chunk = message.chunk;
        if (!chunk || chunk.length === 0) return;
        controller.enqueue(chunk);
        if ((controller.desiredSize ?? 0) <= 0) call.pause();
        return;
      }
      const head = message[headKey];
      if (head === undefined || head === null) {
        finish();
        call.cancel();
        reject(new PortholeError('UNAVAILABLE', `the host's stream did not start with a ${headKey}`));
        return;
      }
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          controller = c;
        },
        pull() {
          call.resume();
        },
        cancel() {
          // A reader that stops early tells the host to stop producing.
          finish();
          call.cancel();
        },
      }, new ByteLengthQueuingStrategy({ highWaterMark: BUFFERED_BYTES }));
      resolve({ head: head as NonNullable<M[K]>, body });
    });

    call.on('end', () => {
      if (done) return;
      if (!controller) {
        fail(new PortholeError('UNAVAILABLE', `the host's stream did not start with a ${headKey}`));
        return;
      }
      finish();
      controller.close();
    });

    call.on('error', (error: unknown) => {
      if (!done) fail(PortholeError.from(error));
    });

    if (signal?.aborted) call.cancel();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}
