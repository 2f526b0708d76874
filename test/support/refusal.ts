import { PortholeError } from '@porthole/shared';
import { expect } from 'vitest';

/** The whole error a call failed with, as the guest sees it. */
export async function refusal(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  const error = await promise.then(
    () => {
      throw new Error('expected a refusal, the call succeeded');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PortholeError);
  const { code, field, limit, message } = error as PortholeError;
  return { code, field, limit, message };
}
