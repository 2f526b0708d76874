// Original file: proto/porthole/v1/porthole.proto

/**
 * Machine-readable refusal reasons. Names are stable once released.
 */
export const Reason = {
  REASON_UNSPECIFIED: 'REASON_UNSPECIFIED',
  POLICY_DENIED: 'POLICY_DENIED',
  RATE_LIMITED: 'RATE_LIMITED',
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  NOT_FOUND: 'NOT_FOUND',
  TOO_LARGE: 'TOO_LARGE',
  UPSTREAM_ERROR: 'UPSTREAM_ERROR',
  TIMEOUT: 'TIMEOUT',
  UNAVAILABLE: 'UNAVAILABLE',
} as const;

/**
 * Machine-readable refusal reasons. Names are stable once released.
 */
export type Reason =
  | 'REASON_UNSPECIFIED'
  | 0
  | 'POLICY_DENIED'
  | 1
  | 'RATE_LIMITED'
  | 2
  | 'QUOTA_EXCEEDED'
  | 3
  | 'INVALID_ARGUMENT'
  | 4
  | 'NOT_FOUND'
  | 5
  | 'TOO_LARGE'
  | 6
  | 'UPSTREAM_ERROR'
  | 7
  | 'TIMEOUT'
  | 8
  | 'UNAVAILABLE'
  | 9

/**
 * Machine-readable refusal reasons. Names are stable once released.
 */
export type Reason__Output = typeof Reason[keyof typeof Reason]
