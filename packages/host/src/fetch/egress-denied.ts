/**
 * Raised inside the connect path when no resolved address may be used, so
 * the refusal can be told apart from a network failure after undici wraps it.
 */
export class EgressDenied extends Error {
  override readonly name = 'EgressDenied';
  readonly code = 'PORTHOLE_EGRESS_DENIED';
}

export function findEgressDenied(error: unknown): EgressDenied | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof EgressDenied) return e;
  }
  return undefined;
}
