import { describe, expect, it } from 'vitest';

import { SendShare, type EndTurn } from './send-share.js';

// Whether a turn was granted now (a function) or must wait (a promise).
const granted = (turn: EndTurn | Promise<EndTurn>): turn is EndTurn => typeof turn === 'function';

describe('SendShare', () => {
  it('does not hold back a sandbox streaming alone, however many streams it has', () => {
    const share = new SendShare(() => 0);
    const streams = Array.from({ length: 8 }, () => share.open('flood'));
    expect(streams.map((s) => granted(s.turn()))).toEqual(Array(8).fill(true));
  });

  it('gives a sandbox one chunk at a time while another streams, then lets it go when that one ends', async () => {
    const share = new SendShare(() => 0);
    const flood = Array.from({ length: 3 }, () => share.open('flood'));
    const neighbour = share.open('neighbour');

    const first = flood[0]!.turn();
    const second = flood[1]!.turn();
    const third = flood[2]!.turn();
    expect([granted(first), granted(second), granted(third)]).toEqual([true, false, false]);
    // The neighbour's own turn never waits behind the flood's.
    expect(granted(neighbour.turn())).toBe(true);

    let started = 0;
    void (second as Promise<EndTurn>).then(() => started++);
    void (third as Promise<EndTurn>).then(() => started++);
    (first as EndTurn)();
    await Promise.resolve();
    expect(started).toBe(1);

    neighbour.close();
    await Promise.resolve();
    expect(started).toBe(2);
  });

  it('counts a sandbox that started a call in the last 100 ms as active', () => {
    let now = 0;
    const share = new SendShare(() => now);
    const [a, b] = [share.open('flood'), share.open('flood')];
    share.noteCall('flood');
    share.noteCall('neighbour');
    share.noteCall('flood');
    expect(granted(a.turn())).toBe(true);
    expect(granted(b.turn())).toBe(false);

    now = 150;
    const c = share.open('flood');
    expect(granted(c.turn())).toBe(true);
  });

  it('stops waiting when the call is cancelled, with the cancel reason', async () => {
    const share = new SendShare(() => 0);
    const [a, b] = [share.open('flood'), share.open('flood')];
    share.open('neighbour');
    a.turn();
    const controller = new AbortController();
    const waiting = b.turn(controller.signal);
    controller.abort(new Error('the guest cancelled the call'));
    await expect(waiting).rejects.toThrow('the guest cancelled the call');
  });
});
