import { status } from '@grpc/grpc-js';

/**
 * Why the host refused or failed a call. These names are part of the wire
 * contract (trailing metadata `porthole-reason`) and never change.
 */
export const REASONS = [
  'POLICY_DENIED',
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'TOO_LARGE',
  'UPSTREAM_ERROR',
  'TIMEOUT',
  'UNAVAILABLE',
] as const;

export type Reason = (typeof REASONS)[number];

export function isReason(value: unknown): value is Reason {
  return typeof value === 'string' && (REASONS as readonly string[]).includes(value);
}

/** The gRPC status that carries each reason. */
export const REASON_STATUS: Readonly<Record<Reason, status>> = {
  POLICY_DENIED: status.PERMISSION_DENIED,
  RATE_LIMITED: status.RESOURCE_EXHAUSTED,
  QUOTA_EXCEEDED: status.RESOURCE_EXHAUSTED,
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  TOO_LARGE: status.RESOURCE_EXHAUSTED,
  UPSTREAM_ERROR: status.UNAVAILABLE,
  TIMEOUT: status.DEADLINE_EXCEEDED,
  UNAVAILABLE: status.UNAVAILABLE,
};

/**
 * Exit codes of the `porthole` CLI, one per reason, so shell agents can
 * branch on `$?`. 1 is an unexpected failure and 2 a usage error.
 */
export const REASON_EXIT_CODE: Readonly<Record<Reason, number>> = {
  POLICY_DENIED: 10,
  RATE_LIMITED: 11,
  QUOTA_EXCEEDED: 12,
  INVALID_ARGUMENT: 13,
  NOT_FOUND: 14,
  TOO_LARGE: 15,
  UPSTREAM_ERROR: 16,
  TIMEOUT: 17,
  UNAVAILABLE: 18,
};

/** Trailing metadata keys that carry an error's machine-readable detail. */
export const ERROR_METADATA = {
  reason: 'porthole-reason',
  field: 'porthole-field',
  retryAfterMs: 'porthole-retry-after-ms',
  limit: 'porthole-limit',
} as const;
