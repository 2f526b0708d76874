import { createHook } from 'node:async_hooks';
import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { sendMessage } from './send-message.js';

/**
 * A writable object stream with room for one message, whose reader takes
 * one message per `release()`.
 */
function slowReader(): { stream: Writable; release: () => void; received: unknown[] } {
  const received: unknown[] = [];
  const waiting: (() => void)[] = [];
  const stream = new Writable({
    objectMode: true,
    highWaterMark: 2,
    write(message, _encoding, done) {
      received.push(message);
      waiting.push(done);
    },
  });
  return { stream, received, release: () => waiting.shift()?.() };
}

describe('sendMessage', () => {
  it('returns nothing while the buffer has room, and a promise that settles on drain when full', async () => {
    const { stream, release, received } = slowReader();
    expect(sendMessage(stream, 'a', new AbortController(), 1000)).toBeUndefined();
    const wait = sendMessage(stream, 'b', new AbortController(), 1000);
    expect(wait).toBeInstanceOf(Promise);
    release();
    release();
    await wait;
    expect(received).toEqual(['a', 'b']);
    expect(['drain', 'close', 'error'].map((e) => stream.listenerCount(e))).toEqual([0, 0, 0]);
  });

  it('leaves no timer behind once a wait ends', async () => {
    const live = new Set<number>();
    const hook = createHook({
      init: (id, type) => void (type === 'Timeout' && live.add(id)),
      destroy: (id) => void live.delete(id),
    }).enable();
    try {
      // Full after every message: each send waits for the reader.
      const stream = new Writable({ objectMode: true, highWaterMark: 1, write: (_m, _e, done) => setImmediate(done) });
      const stop = new AbortController();
      let waits = 0;
      for (let i = 0; i < 200; i++) {
        const wait = sendMessage(stream, i, stop, 60_000);
        if (wait) waits++;
        await wait;
      }
      expect(waits).toBe(200);
      // Timers are destroyed on the turn after they are cleared.
      await new Promise(setImmediate);
      expect(live.size).toBe(0);
    } finally {
      hook.disable();
    }
  });

  it('fails with TIMEOUT when the reader takes nothing for stallMs', async () => {
    const { stream } = slowReader();
    sendMessage(stream, 'a', new AbortController(), 50);
    await expect(sendMessage(stream, 'b', new AbortController(), 50)).rejects.toMatchObject({
      code: 'TIMEOUT', message: 'the guest read nothing for 50 ms', limit: 50,
    });
    expect(stream.listenerCount('drain')).toBe(0);
  });

  it('fails with the signal\'s reason when the call is cancelled', async () => {
    const { stream } = slowReader();
    const controller = new AbortController();
    sendMessage(stream, 'a', controller, 60_000);
    const wait = sendMessage(stream, 'b', controller, 60_000);
    controller.abort(new Error('cancelled by the guest'));
    await expect(wait).rejects.toThrow('cancelled by the guest');
  });

  it('fails with UNAVAILABLE when the stream closes while it waits', async () => {
    const { stream } = slowReader();
    sendMessage(stream, 'a', new AbortController(), 60_000);
    const wait = sendMessage(stream, 'b', new AbortController(), 60_000);
    stream.destroy();
    await expect(wait).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('reads the signal only when it has to wait', () => {
    let reads = 0;
    const stop = {
      get signal(): AbortSignal {
        reads++;
        return new AbortController().signal;
      },
    };
    const stream = new Writable({ objectMode: true, write: (_m, _e, done) => done() });
    sendMessage(stream, { chunk: 1 }, stop, 1000);
    expect(reads).toBe(0);
  });
});
