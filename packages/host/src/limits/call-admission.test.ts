import { limitsSchema, PortholeError } from '@porthole/shared';
import { describe, expect, it } from 'vitest';

import { CallAdmission } from './call-admission.js';

function refusals(admission: CallAdmission, count: number): number {
  let refused = 0;
  for (let i = 0; i < count; i++) {
    try {
      admission.admit()();
    } catch (error) {
      expect(error).toBeInstanceOf(PortholeError);
      refused++;
    }
  }
  return refused;
}

describe('CallAdmission holds', () => {
  // Slow enough that no token refills while the test runs.
  const limits = limitsSchema.parse({ requestsPerSecond: 0.01, burst: 4 });

  it('asks for a hold once a sandbox is refused more than its burst', () => {
    const holds: number[] = [];
    const admission = new CallAdmission(limits, { hold: (ms) => holds.push(ms) });
    expect(refusals(admission, 4)).toBe(0);

    // Four refusals are allowed, like four calls; the fifth asks for a hold
    // of the time half the allowance takes to refill, at most 1 s.
    expect(refusals(admission, 4)).toBe(4);
    expect(holds).toEqual([]);
    expect(refusals(admission, 1)).toBe(1);
    expect(holds).toEqual([1_000]);
  });

  it('counts refusals for concurrency as well as for rate', () => {
    const holds: number[] = [];
    const admission = new CallAdmission(limitsSchema.parse({ maxConcurrent: 1, burst: 2, requestsPerSecond: 0.01 }), { hold: (ms) => holds.push(ms) });
    admission.admit();
    expect(refusals(admission, 3)).toBe(3);
    expect(holds).toHaveLength(1);
  });
});
