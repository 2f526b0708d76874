import { Metadata, status, type ServiceError } from '@grpc/grpc-js';

import {
  ERROR_METADATA,
  isReason,
  REASON_STATUS,
  type Reason,
} from './reasons.js';

export interface PortholeErrorDetail {
  /** Path of the request or config field that was wrong: `headers[2].name`. */
  field?: string;
  /** With RATE_LIMITED: milliseconds after which a retry can succeed. */
  retryAfterMs?: number;
  /** The bound that was exceeded, in its own unit (bytes, calls, ms). */
  limit?: number;
  cause?: unknown;
}

/**
 * The one error type of Porthole, on both sides of the wire. `code` is a
 * stable reason a program can branch on; the message names what was wrong.
 */
export class PortholeError extends Error {
  override readonly name = 'PortholeError';
  readonly code: Reason;
  readonly field: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly limit: number | undefined;

  constructor(code: Reason, message: string, detail: PortholeErrorDetail = {}) {
    super(message, detail.cause === undefined ? {} : { cause: detail.cause });
    this.code = code;
    this.field = detail.field;
    this.retryAfterMs = detail.retryAfterMs;
    this.limit = detail.limit;
  }

  /** The gRPC status that carries this error on the wire. */
  get grpcStatus(): status {
    return REASON_STATUS[this.code];
  }

  /** Trailing metadata carrying the reason and its detail. */
  toMetadata(): Metadata {
    const metadata = new Metadata();
    metadata.set(ERROR_METADATA.reason, this.code);
    if (this.field !== undefined) metadata.set(ERROR_METADATA.field, this.field);
    if (this.retryAfterMs !== undefined) {
      metadata.set(ERROR_METADATA.retryAfterMs, String(this.retryAfterMs));
    }
    if (this.limit !== undefined) metadata.set(ERROR_METADATA.limit, String(this.limit));
    return metadata;
  }

  /** The object a grpc-js handler passes to its callback or emits. */
  toServiceError(): Partial<ServiceError> {
    return { code: this.grpcStatus, details: this.message, metadata: this.toMetadata() };
  }

  /**
   * Normalises anything thrown or received into a PortholeError: a wire
   * error keeps the host's reason, a transport failure becomes UNAVAILABLE.
   */
  static from(error: unknown): PortholeError {
    if (error instanceof PortholeError) return error;
    if (isServiceError(error)) return fromServiceError(error);
    const message = error instanceof Error ? error.message : String(error);
    return new PortholeError('UNAVAILABLE', message, { cause: error });
  }
}

function isServiceError(error: unknown): error is ServiceError {
  return error instanceof Error && 'code' in error && 'metadata' in error &&
    (error as ServiceError).metadata instanceof Metadata;
}

function fromServiceError(error: ServiceError): PortholeError {
  const first = (key: string): string | undefined => {
    const value = error.metadata.get(key)[0];
    return typeof value === 'string' ? value : undefined;
  };
  const number = (key: string): number | undefined => {
    const value = Number(first(key));
    return Number.isFinite(value) && first(key) !== undefined ? value : undefined;
  };

  const reason = first(ERROR_METADATA.reason);
  const detail: PortholeErrorDetail = { cause: error };
  const field = first(ERROR_METADATA.field);
  const retryAfterMs = number(ERROR_METADATA.retryAfterMs);
  const limit = number(ERROR_METADATA.limit);
  if (field !== undefined) detail.field = field;
  if (retryAfterMs !== undefined) detail.retryAfterMs = retryAfterMs;
  if (limit !== undefined) detail.limit = limit;

  if (isReason(reason)) return new PortholeError(reason, error.details, detail);
  return new PortholeError(reasonOfStatus(error.code), transportMessage(error), detail);
}

// Errors without a reason never came from a Porthole handler: they are the
// channel's own (no listener, connection reset, deadline on the guest side).
function reasonOfStatus(code: status): Reason {
  switch (code) {
    case status.DEADLINE_EXCEEDED:
      return 'TIMEOUT';
    case status.RESOURCE_EXHAUSTED:
      return 'TOO_LARGE';
    case status.INVALID_ARGUMENT:
      return 'INVALID_ARGUMENT';
    default:
      return 'UNAVAILABLE';
  }
}

function transportMessage(error: ServiceError): string {
  // grpc-js ends a failed connection's details with "Resolution note: "
  // and nothing after it when name resolution had nothing to add.
  const details = error.details?.replace(/\s*Resolution note:\s*$/, '');
  return details ? details : `gRPC status ${status[error.code]}`;
}
