import type { ConformancePolicy, SandboxPolicy } from './policy.js';
import type { ConformanceUpstream } from './upstream.js';
import { describeError, REASON_STATUS, type Outcome, type WireClient, type WireError } from './wire.js';

/** One sandbox of the endpoint under test: its address, its policy, a client. */
export interface Endpoint {
  address: string;
  policy: SandboxPolicy;
  client: WireClient;
  /** Opens one more connection to the same address (closed after the check). */
  connect(): WireClient;
}

export interface CheckContext {
  main: Endpoint;
  /** The second sandbox; undefined when only one address was given. */
  other: Endpoint | undefined;
  policy: ConformancePolicy;
  upstream: ConformanceUpstream;
  /** Runs `cleanup` when the check ends, however it ends. */
  defer(cleanup: () => void): void;
  /** A token unique to this run and check, for upstream routes that observe. */
  token(): string;
}

/** A check either returns (pass) or throws (fail with the error's message). */
export interface Check {
  /** Stable id, e.g. `artifacts.read-range-past-end`; proto/README.md lists it under its rule. */
  id: string;
  group: string;
  title: string;
  /** Rule numbers of proto/README.md this check covers. */
  rules: string[];
  /** Needs the second sandbox's address. */
  needsOther?: boolean;
  /** Bound on the whole check (default 30 s). */
  timeoutMs?: number;
  run(ctx: CheckContext): Promise<void>;
}

/** A failed expectation; its message is what the report prints. */
export class CheckFailure extends Error {
  override readonly name = 'CheckFailure';
}

export function fail(message: string): never {
  throw new CheckFailure(message);
}

export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) fail(message);
}

/** Deep equality by canonical JSON (object keys sorted). */
export function expectEqual<T>(actual: T, expected: T, what: string): void {
  const a = JSON.stringify(canonical(actual));
  const e = JSON.stringify(canonical(expected));
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`);
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}

/** The value of a call that must succeed. */
export function ok<T>(outcome: Outcome<T>, what: string): T {
  if (!outcome.ok) fail(`${what} was refused: ${describeError(outcome.error)}`);
  return outcome.value;
}

export interface Refusal {
  reason: string;
  /** Expected porthole-field; null: must be absent; undefined: not checked. */
  field?: string | null;
  /** Expected porthole-limit, as a number. */
  limit?: number;
  /** RATE_LIMITED: porthole-retry-after-ms must be a positive integer. */
  retryAfter?: boolean;
}

/**
 * Checks a refusal's whole wire form (rules E1-E4): the status that belongs
 * to the reason, exactly one porthole-reason, and the detail it must carry.
 */
export function expectRefusal(error: WireError | undefined, want: Refusal, what: string): WireError {
  if (!error) fail(`${what}: expected ${want.reason}, the call succeeded`);
  const got = describeError(error);
  if (error.reasons.length !== 1) fail(`${what}: expected one porthole-reason ${want.reason}, got ${got}`);
  if (error.reasons[0] !== want.reason) fail(`${what}: expected reason ${want.reason}, got ${got}`);
  const status = REASON_STATUS[want.reason];
  if (error.code !== status) fail(`${what}: ${want.reason} must travel with gRPC status ${status}, got ${got}`);
  if (want.field === null && error.field !== undefined) fail(`${what}: expected no porthole-field, got ${got}`);
  if (typeof want.field === 'string' && error.field !== want.field) fail(`${what}: expected porthole-field ${want.field}, got ${got}`);
  if (want.limit !== undefined && error.limit !== String(want.limit)) fail(`${what}: expected porthole-limit ${want.limit}, got ${got}`);
  if (want.retryAfter) {
    const ms = Number(error.retryAfterMs);
    if (!Number.isInteger(ms) || ms <= 0) fail(`${what}: RATE_LIMITED needs a positive porthole-retry-after-ms, got ${got}`);
  }
  if (!error.details) fail(`${what}: the status carries no message for a person`);
  return error;
}

/** Expects a call to be refused; returns the error. */
export function refused<T>(outcome: Outcome<T>, want: Refusal, what: string): WireError {
  if (outcome.ok) fail(`${what}: expected ${want.reason}, the call succeeded`);
  return expectRefusal(outcome.error, want, what);
}

/** Polls `probe` every 50 ms until it holds; false after `ms` (bounded in count too). */
export async function waitFor(probe: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (let tries = 0; tries < Math.ceil(ms / 50) + 1; tries++) {
    if (await probe()) return true;
    if (Date.now() >= deadline) break;
    await sleep(50);
  }
  return probe();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
