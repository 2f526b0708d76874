import * as grpc from '@grpc/grpc-js';

import { expect, expectEqual, fail, ok, refused, sleep, type Check } from '../check.js';
import { OTHER_PREFIX } from '../policy.js';
import { readAll } from '../streams.js';
import { fetchOk, fetchUrl, mainUrl } from './fetch.js';
import { hello } from './handshake.js';
import { readArtifact } from './artifacts.js';
import { heldFetch } from './lifecycle.js';
import { write } from './outputs.js';

interface Listed {
  artifacts: { name: string }[];
}

export const isolationChecks: Check[] = [
  {
    id: 'isolation.identity-from-socket',
    group: 'isolation',
    title: 'each address is its own sandbox; metadata naming another sandbox changes nothing',
    rules: ['I1'],
    needsOther: true,
    async run(ctx) {
      expectEqual(ok(await hello(ctx.other!), 'Hello on other').sandboxId, ctx.other!.policy.id, 'sandbox_id on the second address');
      const claim = new grpc.Metadata();
      claim.set('x-porthole-sandbox', ctx.other!.policy.id);
      claim.set('porthole-sandbox', ctx.other!.policy.id);
      expectEqual(ok(await hello(ctx.main, 1, claim), 'Hello with a claim').sandboxId, ctx.main.policy.id, 'sandbox_id when the guest claims another');
    },
  },
  {
    id: 'isolation.artifacts',
    group: 'isolation',
    title: 'each sandbox lists and reads only its own artifacts',
    rules: ['I2', 'A4'],
    needsOther: true,
    async run(ctx) {
      const other = ctx.other!;
      const listed = ok(await other.client.unary<Listed>('listArtifacts', {}), 'ListArtifacts on other');
      expectEqual(listed.artifacts.map((a) => a.name), ['other-only.txt'], 'artifacts of other');
      for (const [endpoint, name] of [[ctx.main, 'other-only.txt'], [other, 'alpha.txt']] as const) {
        const what = `${endpoint.policy.id} reads ${name}`;
        const { head, error } = await readAll(readArtifact(endpoint, name), what);
        expect(!head, `${what}: it was served`);
        refused(error ? { ok: false, error } : { ok: true, value: undefined }, { reason: 'NOT_FOUND', field: 'name' }, what);
      }
    },
  },
  {
    id: 'isolation.disabled-action',
    group: 'isolation',
    title: 'an action the policy leaves out (WriteOutput on other) is POLICY_DENIED',
    rules: ['I3', 'E1'],
    needsOther: true,
    async run(ctx) {
      refused(await write(ctx.other!, { name: 'sneaky.txt' }, Buffer.from('x')), { reason: 'POLICY_DENIED' }, 'WriteOutput on other');
    },
  },
  {
    id: 'isolation.fetch-rules',
    group: 'isolation',
    title: 'each sandbox fetches under its own rules only',
    rules: ['I2', 'F2'],
    needsOther: true,
    async run(ctx) {
      const other = ctx.other!;
      const otherUrl = `${ctx.upstream.origin()}${OTHER_PREFIX}hello`;
      const { body } = await fetchOk(other, { url: otherUrl }, 'other fetches its URL');
      expectEqual(body.toString(), 'hello other\n', 'body on other');
      for (const [endpoint, url] of [[ctx.main, otherUrl], [other, mainUrl(ctx, 'hello')]] as const) {
        const what = `${endpoint.policy.id} fetches ${url}`;
        const { head, error } = await readAll(fetchUrl(endpoint, { url }), what);
        expect(!head, `${what}: it was fetched`);
        refused(error ? { ok: false, error } : { ok: true, value: undefined }, { reason: 'POLICY_DENIED', field: 'url' }, what);
      }
    },
  },
];

export const limitChecks: Check[] = [
  {
    id: 'limits.concurrency-refused',
    group: 'limits',
    title: 'a call past max_concurrent_calls is RATE_LIMITED at once, with retry-after and the limit, never queued',
    rules: ['L1', 'E1', 'E3', 'E4'],
    async run(ctx) {
      const max = ctx.main.policy.limits.maxConcurrent;
      for (let i = 0; i < max; i++) await heldFetch(ctx, 'concurrency');
      const outcome = await ctx.main.client.unary('listArtifacts', {}, { deadlineMs: 5000 });
      if (outcome.ok || outcome.error.code !== grpc.status.DEADLINE_EXCEEDED) {
        refused(outcome, { reason: 'RATE_LIMITED', limit: max, retryAfter: true }, `call ${max + 1} with ${max} in progress`);
        return;
      }
      fail(`call ${max + 1} with ${max} in progress was queued (no answer within 5 s) instead of refused`);
    },
  },
  {
    id: 'limits.request-rate',
    group: 'limits',
    title: 'calls past the burst are RATE_LIMITED with retry-after; after it, a call is admitted (other sandbox)',
    rules: ['L2', 'E1', 'E3', 'E4'],
    needsOther: true,
    async run(ctx) {
      const other = ctx.other!;
      const { burst, requestsPerSecond } = other.policy.limits;
      for (let i = 0; i < burst + 5; i++) {
        const outcome = await other.client.unary('listArtifacts', {});
        if (outcome.ok) continue;
        const error = refused(outcome, { reason: 'RATE_LIMITED', limit: requestsPerSecond, retryAfter: true }, `call ${i + 1} in a row`);
        const wait = Number(error.retryAfterMs);
        expect(wait <= 10_000, `retry-after-ms ${wait} is longer than a refill of one call at ${requestsPerSecond}/s`);
        await sleep(wait);
        ok(await other.client.unary('listArtifacts', {}), `a call after waiting retry-after-ms ${wait}`);
        return;
      }
      fail(`${burst + 5} calls in a row were all admitted; the burst is ${burst}`);
    },
  },
  {
    id: 'limits.per-sandbox',
    group: 'limits',
    title: 'one sandbox over its rate does not limit another',
    rules: ['I4', 'L2'],
    needsOther: true,
    async run(ctx) {
      const other = ctx.other!;
      let limited = false;
      for (let i = 0; i < other.policy.limits.burst + 5 && !limited; i++) {
        limited = !(await other.client.unary('listArtifacts', {})).ok;
      }
      expect(limited, 'precondition: the other sandbox could not be brought over its rate');
      ok(await ctx.main.client.unary('listArtifacts', {}), 'a call on main while other is over its rate');
    },
  },
];
