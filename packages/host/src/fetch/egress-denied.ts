/**
 * Raised inside the connect path when no resolved address may be used, so
 * the refusal can be told apart from a network failure after undici wraps it.
 */
export class EgressDenied extends Error {
  override readonly name = 'EgressDenied';
  readonly code = 'PORTHOLE_EGRESS_DENIED';
}
