import { expect, expectEqual, fail, ok, refused, waitFor, type Check, type CheckContext, type Endpoint } from '../check.js';
import { MAIN_PREFIX, OTHER_PREFIX } from '../policy.js';
import { expectBytes, expectChunkSizes, readAll } from '../streams.js';
import { BIG_BODY } from '../upstream.js';
import type { StreamReader } from '../wire.js';
import { chunkBytesOf } from './handshake.js';

export interface FetchHead {
  status: number;
  statusText: string;
  headers: { name: string; value: string }[];
  finalUrl: string;
  redirects: number;
  contentLength: number;
}

export interface FetchRequest {
  method?: string;
  url: string;
  headers?: { name: string; value: string }[];
  body?: Buffer;
  timeoutMs?: number;
}

export function fetchUrl(endpoint: Endpoint, request: FetchRequest, deadlineMs?: number): StreamReader<FetchHead> {
  const message = {
    method: request.method ?? 'GET',
    url: request.url,
    headers: request.headers ?? [],
    body: request.body ?? Buffer.alloc(0),
    timeoutMs: request.timeoutMs ?? 0,
  };
  return endpoint.client.serverStream<FetchHead>('fetchUrl', message, deadlineMs === undefined ? {} : { deadlineMs });
}

export function mainUrl(ctx: CheckContext, path: string): string {
  return `${ctx.upstream.origin()}${MAIN_PREFIX}${path}`;
}

function otherUrl(ctx: CheckContext, path: string): string {
  return `${ctx.upstream.origin()}${OTHER_PREFIX}${path}`;
}

/** A fetch that must succeed: its head and body bytes. */
export async function fetchOk(endpoint: Endpoint, request: FetchRequest, what: string): Promise<{ head: FetchHead; body: Buffer; chunks: Buffer[] }> {
  const { head, chunks, error } = await readAll(fetchUrl(endpoint, request), what);
  if (error) ok({ ok: false, error }, what);
  expect(head, `${what}: the stream ended without a head`);
  return { head, body: Buffer.concat(chunks), chunks };
}

/** A fetch that must be refused before any message. */
async function fetchRefused(endpoint: Endpoint, request: FetchRequest, want: Parameters<typeof refused>[1], what: string): Promise<void> {
  const { head, error } = await readAll(fetchUrl(endpoint, request), what);
  expect(!head, `${what}: a head was sent (status ${head?.status}); the call must be refused`);
  refused(error ? { ok: false, error } : { ok: true, value: undefined }, want, what);
}

function header(head: FetchHead, name: string): string | undefined {
  return head.headers.find((h) => h.name.toLowerCase() === name)?.value;
}

/** Fails if the upstream saw a request outside every rule. */
function expectNoStrays(ctx: CheckContext, what: string): void {
  if (ctx.upstream.strays.length > 0) fail(`${what}: the host requested ${ctx.upstream.strays.join(', ')}, which no rule allows`);
}

/** Waits until the upstream saw the request with `token` close: the host stopped its work. */
export async function expectUpstreamClosed(ctx: CheckContext, token: string, what: string): Promise<void> {
  const observed = ctx.upstream.observe(token);
  if (!(await waitFor(() => observed.closed, 10_000))) {
    fail(`${what}: the host's upstream request was still open 10 s later (arrived: ${observed.arrived})`);
  }
}

const refusals: [string, string, (ctx: CheckContext) => FetchRequest, Parameters<typeof refused>[1], string[]][] = [
  ['body-too-large', 'a body over max_request_body_bytes is TOO_LARGE on body', (ctx) => ({ method: 'POST', url: mainUrl(ctx, 'echo'), body: Buffer.alloc(64 * 1024 + 1, 1) }), { reason: 'TOO_LARGE', field: 'body', limit: 64 * 1024 }, ['F4', 'E1', 'E3']],
  ['get-with-body', 'a GET with a body is INVALID_ARGUMENT on body', (ctx) => ({ method: 'GET', url: mainUrl(ctx, 'echo'), body: Buffer.from('x') }), { reason: 'INVALID_ARGUMENT', field: 'body' }, ['F4', 'E1', 'E3']],
  ['head-with-body', 'a HEAD with a body is INVALID_ARGUMENT on body', (ctx) => ({ method: 'HEAD', url: mainUrl(ctx, 'echo'), body: Buffer.from('x') }), { reason: 'INVALID_ARGUMENT', field: 'body' }, ['F4', 'E1', 'E3']],
  ['unknown-method', 'an unknown method is INVALID_ARGUMENT on method', (ctx) => ({ method: 'TRACE', url: mainUrl(ctx, 'hello') }), { reason: 'INVALID_ARGUMENT', field: 'method' }, ['F1', 'E1', 'E3']],
  ['host-owned-header', 'a connection header (Host) is INVALID_ARGUMENT on headers[1].name', (ctx) => ({ url: mainUrl(ctx, 'hello'), headers: [{ name: 'x-fine', value: '1' }, { name: 'Host', value: 'elsewhere' }] }), { reason: 'INVALID_ARGUMENT', field: 'headers[1].name' }, ['F5', 'E1', 'E3']],
  ['transfer-encoding-header', 'Transfer-Encoding from the guest is INVALID_ARGUMENT on headers[0].name', (ctx) => ({ method: 'POST', url: mainUrl(ctx, 'echo'), body: Buffer.from('x'), headers: [{ name: 'Transfer-Encoding', value: 'chunked' }] }), { reason: 'INVALID_ARGUMENT', field: 'headers[0].name' }, ['F5', 'E1', 'E3']],
  ['header-crlf', 'a header value with CR LF is INVALID_ARGUMENT on headers[0].value', (ctx) => ({ url: mainUrl(ctx, 'hello'), headers: [{ name: 'x-a', value: 'a\r\nx-b: b' }] }), { reason: 'INVALID_ARGUMENT', field: 'headers[0].value' }, ['F5', 'E1', 'E3']],
  ['not-a-url', 'a URL that does not parse is INVALID_ARGUMENT on url', () => ({ url: 'not a url' }), { reason: 'INVALID_ARGUMENT', field: 'url' }, ['F1', 'E1', 'E3']],
  ['relative-url', 'a relative URL is INVALID_ARGUMENT on url', () => ({ url: '/c/hello' }), { reason: 'INVALID_ARGUMENT', field: 'url' }, ['F1', 'E1', 'E3']],
  ['scheme', 'a scheme other than http/https is INVALID_ARGUMENT on url', (ctx) => ({ url: `ftp://127.0.0.1:${ctx.upstream.port}${MAIN_PREFIX}hello` }), { reason: 'INVALID_ARGUMENT', field: 'url' }, ['F1', 'E1', 'E3']],
  ['outside-prefix', 'a path outside every rule is POLICY_DENIED on url', (ctx) => ({ url: `${ctx.upstream.origin()}/outside/x` }), { reason: 'POLICY_DENIED', field: 'url' }, ['F2', 'E1', 'E3']],
  ['method-not-allowed', 'a method the rule does not list is POLICY_DENIED on url', (ctx) => ({ method: 'PUT', url: mainUrl(ctx, 'echo'), body: Buffer.from('x') }), { reason: 'POLICY_DENIED', field: 'url' }, ['F2', 'E1', 'E3']],
  ['other-port', 'another port of an allowed host is POLICY_DENIED on url', (ctx) => ({ url: `http://127.0.0.1:${ctx.upstream.port === 65535 ? 65534 : ctx.upstream.port + 1}${MAIN_PREFIX}hello` }), { reason: 'POLICY_DENIED', field: 'url' }, ['F2', 'E1', 'E3']],
  ['https-scheme', 'https where the rule says http is POLICY_DENIED on url', (ctx) => ({ url: `https://127.0.0.1:${ctx.upstream.port}${MAIN_PREFIX}hello` }), { reason: 'POLICY_DENIED', field: 'url' }, ['F2', 'E1', 'E3']],
  ['too-many-redirects', 'one redirect more than max_redirects is UPSTREAM_ERROR with the limit', (ctx) => ({ url: mainUrl(ctx, 'redirect/3') }), { reason: 'UPSTREAM_ERROR', limit: 2 }, ['F3', 'E1', 'E3']],
  ['upstream-reset', 'an upstream that drops the connection is UPSTREAM_ERROR', (ctx) => ({ url: mainUrl(ctx, 'reset') }), { reason: 'UPSTREAM_ERROR' }, ['F6', 'E1']],
];

export const fetchChecks: Check[] = [
  {
    id: 'fetch.get',
    group: 'fetch',
    title: 'GET: head with status, headers, final_url, redirects 0, content_length, then the body',
    rules: ['F1', 'S1'],
    async run(ctx) {
      const url = mainUrl(ctx, 'hello');
      const { head, body } = await fetchOk(ctx.main, { url }, `GET ${url}`);
      expectEqual([head.status, head.finalUrl, head.redirects, head.contentLength], [200, url, 0, 20], 'status, final_url, redirects, content_length');
      expectEqual([header(head, 'content-type'), header(head, 'x-conformance')], ['text/plain', 'yes'], 'upstream response headers');
      expectEqual(body.toString(), 'hello from upstream\n', 'body');
    },
  },
  {
    id: 'fetch.empty-method-is-get',
    group: 'fetch',
    title: 'an empty method is GET',
    rules: ['F1'],
    async run(ctx) {
      const { body } = await fetchOk(ctx.main, { method: '', url: mainUrl(ctx, 'echo') }, 'fetch with method ""');
      expectEqual((JSON.parse(body.toString()) as { method: string }).method, 'GET', 'method the upstream saw');
    },
  },
  {
    id: 'fetch.chunked-body',
    group: 'fetch',
    title: 'a 300 000-byte body of unknown length: content_length -1, chunks within chunk_bytes, in order',
    rules: ['F1', 'S2', 'S3'],
    async run(ctx) {
      const { head, chunks } = await fetchOk(ctx.main, { url: mainUrl(ctx, 'big') }, 'GET big');
      expectEqual(head.contentLength, -1, 'content_length of a chunked response');
      expectChunkSizes(chunks, await chunkBytesOf(ctx), 'GET big');
      expectBytes(chunks, BIG_BODY, 'GET big');
    },
  },
  {
    id: 'fetch.sized-body',
    group: 'fetch',
    title: 'a body with content-length: content_length in the head, chunks within chunk_bytes, in order',
    rules: ['F1', 'S2', 'S3'],
    async run(ctx) {
      const { head, chunks } = await fetchOk(ctx.main, { url: mainUrl(ctx, 'sized') }, 'GET sized');
      expectEqual(head.contentLength, BIG_BODY.length, 'content_length');
      expectChunkSizes(chunks, await chunkBytesOf(ctx), 'GET sized');
      expectBytes(chunks, BIG_BODY, 'GET sized');
    },
  },
  {
    id: 'fetch.post-body-and-headers',
    group: 'fetch',
    title: 'POST: the method, body and guest headers reach the upstream',
    rules: ['F1', 'F5'],
    async run(ctx) {
      const body = Buffer.from('{"conformance":true}');
      const { body: echoed } = await fetchOk(ctx.main, { method: 'POST', url: mainUrl(ctx, 'echo'), body, headers: [{ name: 'X-Conformance-Test', value: 'v1' }, { name: 'content-type', value: 'application/json' }] }, 'POST echo');
      const seen = JSON.parse(echoed.toString()) as { method: string; headers: Record<string, string>; body: string };
      expectEqual([seen.method, seen.headers['x-conformance-test'], seen.headers['content-type'], Buffer.from(seen.body, 'base64').toString()], ['POST', 'v1', 'application/json', body.toString()], 'what the upstream received');
    },
  },
  {
    id: 'fetch.body-at-limit',
    group: 'fetch',
    title: 'a body of exactly max_request_body_bytes is sent',
    rules: ['F4'],
    async run(ctx) {
      const body = Buffer.alloc(ctx.main.policy.fetch.maxRequestBodyBytes, 0x61);
      const { body: echoed } = await fetchOk(ctx.main, { method: 'POST', url: mainUrl(ctx, 'echo'), body }, 'POST at the limit');
      expectEqual(Buffer.from((JSON.parse(echoed.toString()) as { body: string }).body, 'base64').length, body.length, 'body bytes the upstream received');
    },
  },
  {
    id: 'fetch.head',
    group: 'fetch',
    title: 'HEAD: a head and no chunks',
    rules: ['F1'],
    async run(ctx) {
      const { head, chunks } = await fetchOk(ctx.main, { method: 'HEAD', url: mainUrl(ctx, 'sized') }, 'HEAD sized');
      expectEqual([head.status, chunks.length], [200, 0], 'status and number of chunks');
    },
  },
  {
    id: 'fetch.status-passthrough',
    group: 'fetch',
    title: 'an upstream 404 is a head with status 404 and its body, not a refusal',
    rules: ['F1'],
    async run(ctx) {
      const { head, body } = await fetchOk(ctx.main, { url: mainUrl(ctx, 'status/404') }, 'GET status/404');
      expectEqual([head.status, body.toString()], [404, 'status 404\n'], 'status and body');
    },
  },
  {
    id: 'fetch.redirects-followed',
    group: 'fetch',
    title: 'max_redirects redirects are followed: final_url is the last hop, redirects counts them',
    rules: ['F3'],
    async run(ctx) {
      const { head, body } = await fetchOk(ctx.main, { url: mainUrl(ctx, 'redirect/2') }, 'GET redirect/2');
      expectEqual([head.status, head.finalUrl, head.redirects, body.toString()], [200, mainUrl(ctx, 'hello'), 2, 'hello from upstream\n'], 'status, final_url, redirects, body');
    },
  },
  {
    id: 'fetch.redirect-outside-policy',
    group: 'fetch',
    title: 'a redirect to a URL no rule allows is POLICY_DENIED and never requested',
    rules: ['F2', 'F3', 'E1'],
    async run(ctx) {
      await fetchRefused(ctx.main, { url: mainUrl(ctx, 'redirect-out') }, { reason: 'POLICY_DENIED' }, 'GET redirect-out');
      expectNoStrays(ctx, 'GET redirect-out');
    },
  },
  ...refusals.map(([id, title, request, want, rules]): Check => ({
    id: `fetch.refuse-${id}`,
    group: 'fetch',
    title,
    rules,
    async run(ctx) {
      await fetchRefused(ctx.main, request(ctx), want, title);
      expectNoStrays(ctx, title);
    },
  })),
  {
    id: 'fetch.timeout',
    group: 'fetch',
    title: 'timeout_ms shorter than the policy\'s: TIMEOUT with that limit, and the upstream request is closed',
    rules: ['F7', 'C2', 'E1', 'E3'],
    async run(ctx) {
      const token = ctx.token();
      await fetchRefused(ctx.main, { url: mainUrl(ctx, `hang/${token}`), timeoutMs: 400 }, { reason: 'TIMEOUT', limit: 400 }, 'GET hang with timeout_ms 400');
      await expectUpstreamClosed(ctx, token, 'after the TIMEOUT');
    },
  },
  {
    id: 'fetch.timeout-capped-by-policy',
    group: 'fetch',
    title: 'timeout_ms longer than the policy\'s is cut to the policy\'s timeout (other sandbox, 1000 ms)',
    rules: ['F7', 'E3'],
    needsOther: true,
    async run(ctx) {
      const other = ctx.other!;
      const token = ctx.token();
      await fetchRefused(other, { url: otherUrl(ctx, `hang/${token}`), timeoutMs: 60_000 }, { reason: 'TIMEOUT', limit: other.policy.fetch.timeoutMs }, 'GET hang with timeout_ms 60000');
      await expectUpstreamClosed(ctx, token, 'after the TIMEOUT');
    },
  },
  {
    id: 'fetch.too-large-declared',
    group: 'fetch',
    title: 'a response declaring more than max_response_body_bytes is TOO_LARGE with the limit (other sandbox)',
    rules: ['F4', 'E1', 'E3'],
    needsOther: true,
    async run(ctx) {
      const other = ctx.other!;
      const { chunks, error } = await readAll(fetchUrl(other, { url: otherUrl(ctx, 'sized') }), 'GET sized on other');
      refused(error ? { ok: false, error } : { ok: true, value: undefined }, { reason: 'TOO_LARGE', limit: other.policy.fetch.maxResponseBytes }, 'GET sized on other');
      expect(Buffer.concat(chunks).length <= other.policy.fetch.maxResponseBytes, 'more body bytes than the limit were relayed');
    },
  },
  {
    id: 'fetch.too-large-streamed',
    group: 'fetch',
    title: 'a body of unknown length passing max_response_body_bytes ends in TOO_LARGE, never more bytes (other sandbox)',
    rules: ['F4', 'E1', 'E3'],
    needsOther: true,
    async run(ctx) {
      const other = ctx.other!;
      const { chunks, error } = await readAll(fetchUrl(other, { url: otherUrl(ctx, 'big') }), 'GET big on other');
      refused(error ? { ok: false, error } : { ok: true, value: undefined }, { reason: 'TOO_LARGE', limit: other.policy.fetch.maxResponseBytes }, 'GET big on other');
      const relayed = Buffer.concat(chunks).length;
      expect(relayed <= other.policy.fetch.maxResponseBytes, `${relayed} body bytes were relayed, over the ${other.policy.fetch.maxResponseBytes}-byte limit`);
    },
  },
];
