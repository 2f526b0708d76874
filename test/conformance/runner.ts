import { randomBytes } from 'node:crypto';

import { CheckFailure, type Check, type CheckContext, type Endpoint } from './check.js';
import { ALL_CHECKS } from './checks/index.js';
import type { ConformancePolicy } from './policy.js';
import type { ConformanceUpstream } from './upstream.js';
import { WireClient } from './wire.js';

export type Verdict = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  id: string;
  group: string;
  title: string;
  rules: string[];
  verdict: Verdict;
  /** Why it failed or was skipped. */
  message: string;
  durationMs: number;
}

export interface RunOptions {
  policy: ConformancePolicy;
  upstream: ConformanceUpstream;
  /** Addresses in policy order: the main sandbox, then optionally the other. */
  addresses: string[];
  /** Only checks whose id contains this text. */
  only?: string;
  /** Called after each check, for progress output. */
  onResult?: (result: CheckResult) => void;
  checks?: readonly Check[];
}

const DEFAULT_CHECK_TIMEOUT_MS = 30_000;
// Before each check the main sandbox gets this long to finish what the
// previous check left (cancelled calls release their slots).
const SETTLE_MS = 15_000;

/** Runs the checks one after another against the endpoint; never throws for a failing check. */
export async function runConformance(options: RunOptions): Promise<CheckResult[]> {
  const { policy, upstream } = options;
  const runId = randomBytes(4).toString('hex');
  let tokens = 0;
  const clients: WireClient[] = [];
  const endpoint = (role: 'main' | 'other', address: string | undefined): Endpoint | undefined => {
    const sandbox = policy.sandboxes.find((s) => s.role === role);
    if (!address || !sandbox) return undefined;
    const client = new WireClient(address);
    clients.push(client);
    return { address, policy: sandbox, client, connect: () => new WireClient(address) };
  };
  const main = endpoint('main', options.addresses[0]);
  if (!main) throw new Error('the main sandbox needs an address');
  const other = endpoint('other', options.addresses[1]);

  const results: CheckResult[] = [];
  try {
    for (const check of options.checks ?? ALL_CHECKS) {
      if (options.only && !check.id.includes(options.only)) continue;
      const result = await runOne(check, { main, other, policy, upstream, runId, nextToken: () => `${runId}-${++tokens}` });
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    for (const client of clients) client.close();
  }
  return results;
}

interface Shared {
  main: Endpoint;
  other: Endpoint | undefined;
  policy: ConformancePolicy;
  upstream: ConformanceUpstream;
  runId: string;
  nextToken: () => string;
}

async function runOne(check: Check, shared: Shared): Promise<CheckResult> {
  const base = { id: check.id, group: check.group, title: check.title, rules: check.rules };
  if (check.needsOther && !shared.other) {
    return { ...base, verdict: 'skip', message: 'needs the second sandbox: pass two addresses', durationMs: 0 };
  }
  await settle(shared.main);

  const cleanups: (() => void)[] = [];
  const ctx: CheckContext = {
    main: shared.main,
    other: shared.other,
    policy: shared.policy,
    upstream: shared.upstream,
    defer: (cleanup) => cleanups.push(cleanup),
    token: shared.nextToken,
  };
  const timeoutMs = check.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  let verdict: Verdict = 'pass';
  let message = '';
  try {
    await Promise.race([
      check.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CheckFailure(`did not finish within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    verdict = 'fail';
    message = error instanceof CheckFailure ? error.message : `the check itself broke: ${(error as Error).stack ?? String(error)}`;
  } finally {
    clearTimeout(timer);
    for (const cleanup of cleanups.reverse()) {
      try {
        cleanup();
      } catch {
        // Cleanup is best effort: a call already ended cannot be cancelled.
      }
    }
  }
  return { ...base, verdict, message, durationMs: Math.round(performance.now() - started) };
}

/** Waits until the main sandbox admits a call (its slots are free again). */
async function settle(main: Endpoint): Promise<void> {
  const deadline = Date.now() + SETTLE_MS;
  for (let tries = 0; tries < SETTLE_MS / 50 && Date.now() < deadline; tries++) {
    const outcome = await main.client.unary('hello', { sdkVersion: 'conformance', protocolMajor: 1 }, { deadlineMs: 5000 });
    if (outcome.ok || outcome.error.reasons[0] !== 'RATE_LIMITED') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
