import { describe, expect, it } from 'vitest';

import { FetchDeadline } from './fetch-deadline.js';

describe('FetchDeadline', () => {
  it('aborts once, with the first reason, and tells its listeners', () => {
    const deadline = new FetchDeadline(60_000);
    const heard: unknown[] = [];
    deadline.on('abort', () => heard.push(deadline.reason));
    const reason = new Error('the guest cancelled the call');
    deadline.abort(reason);
    deadline.abort(new Error('later'));
    expect({ aborted: deadline.aborted, heard }).toStrictEqual({ aborted: true, heard: [reason] });
  });

  it('gives an AbortSignal that follows it, made only when asked for', () => {
    const before = new FetchDeadline(60_000);
    const signal = before.signal;
    expect(signal.aborted).toBe(false);
    before.abort('stop');
    expect({ aborted: signal.aborted, reason: signal.reason }).toStrictEqual({ aborted: true, reason: 'stop' });

    const after = new FetchDeadline(60_000);
    after.abort('gone');
    expect(after.signal.reason).toBe('gone');
  });

  it('aborts by itself when its time is up, unless cleared first', async () => {
    const late = new FetchDeadline(20);
    const cleared = new FetchDeadline(20);
    cleared.clear();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(late.reason).toMatchObject({ message: 'the fetch deadline passed' });
    expect(cleared.aborted).toBe(false);
  });
});
