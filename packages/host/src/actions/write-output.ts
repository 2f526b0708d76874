import { PortholeError, type wire } from '@porthole/shared';
import type { ServerReadableStream } from '@grpc/grpc-js';

import type { OutputWrite } from '../outputs/output-store.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { CallScope } from './call-scope.js';

type WriteCall = ServerReadableStream<wire.WriteOutputRequestOut, wire.WriteOutputResponse>;

/**
 * Receives one output: a head, chunks, then an end. The output becomes
 * visible only after the end message arrived and the bytes are durable;
 * a stream that stops anywhere before that leaves nothing.
 */
export async function writeOutput(sandbox: Sandbox, scope: CallScope, call: WriteCall): Promise<wire.WriteOutputResponse> {
  const store = sandbox.outputs;
  if (!store) throw new PortholeError('POLICY_DENIED', `outputs are not enabled for sandbox ${sandbox.id}`);

  const messages = withIdleTimeout(call, store.policy.idleTimeoutMs);
  const abandoned = (): boolean => call.cancelled || scope.signal.aborted;
  let write: OutputWrite | undefined;
  try {
    const first = await messages.next();
    if (first.done || !first.value.head) {
      throw new PortholeError('INVALID_ARGUMENT', 'the first WriteOutput message must be a head', { field: 'head' });
    }
    const head = first.value.head;
    scope.target = head.name;
    write = await store.begin({
      name: head.name,
      idempotencyKey: head.idempotencyKey,
      ...(head.expectedSize === undefined ? {} : { expectedSize: head.expectedSize }),
    });

    let end: wire.OutputEnd | undefined;
    for (let next = await messages.next(); !next.done; next = await messages.next()) {
      const { chunk } = next.value;
      if (end) {
        throw new PortholeError('INVALID_ARGUMENT', 'a WriteOutput message came after the end', { field: 'end' });
      }
      if (next.value.end) {
        end = next.value.end;
      } else if (chunk) {
        await scope.pace(chunk.length, 'in');
        await write.append(chunk);
      } else {
        throw new PortholeError('INVALID_ARGUMENT', 'only the first WriteOutput message may be a head', { field: 'head' });
      }
    }
    // A cancelled stream can end like a finished one: only the end message
    // says the guest sent everything it meant to.
    if (abandoned()) throw new PortholeError('UNAVAILABLE', 'the guest went away before the output was complete');
    if (!end) {
      throw new PortholeError('INVALID_ARGUMENT', 'the stream ended without an end message; nothing was stored', { field: 'end' });
    }
    const stored = await write.finish(end, abandoned);
    return { name: stored.name, size: stored.size, sha256: stored.sha256, replayed: stored.replayed };
  } catch (error) {
    await write?.abort();
    throw error;
  } finally {
    await messages.return(undefined);
  }
}

/** Iterates a client stream, failing with TIMEOUT when the guest goes quiet. */
async function* withIdleTimeout<T>(stream: AsyncIterable<T>, idleMs: number): AsyncGenerator<T> {
  const iterator = stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PortholeError('TIMEOUT', `the guest sent nothing for ${idleMs} ms`, { limit: idleMs })), idleMs);
      });
      let next: IteratorResult<T>;
      try {
        next = await Promise.race([iterator.next(), idle]);
      } finally {
        // Cleared before yielding: the consumer may take its time or stop.
        clearTimeout(timer);
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}
