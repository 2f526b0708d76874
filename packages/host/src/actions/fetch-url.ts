import type { ServerWritableStream } from '@grpc/grpc-js';
import { PortholeError, type FetchPolicy, type wire } from '@porthole/shared';
import type { Dispatcher } from 'undici';

import { decodes, relayBody } from '../fetch/body-relay.js';
import { EgressDenied } from '../fetch/egress-denied.js';
import { FetchDeadline } from '../fetch/fetch-deadline.js';
import { checkRequestHeaders, hopHeaders, responseHeaders } from '../fetch/header-rules.js';
import type { Redactor } from '../fetch/redactor.js';
import { UpstreamBusy } from '../fetch/connection-budget.js';
import type { AllowedTarget } from '../policy/fetch-policy.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { CallScope } from './call-scope.js';

type FetchCall = ServerWritableStream<wire.FetchUrlRequest, wire.FetchUrlResponse>;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

// Headers the host rewrites when it decodes a body for the guest.
const DECODED_SKIP = new Set(['content-encoding', 'content-length']);
const NOTHING_SKIPPED = new Set<string>();

/** One fetch as it moves through redirects. */
interface Exchange {
  method: string;
  body: Buffer | undefined;
  target: AllowedTarget;
  redirects: number;
  /** The origin of the guest's URL: credentials go there and nowhere else. */
  origin: string;
  /** A redirect turned the request into a GET without its body. */
  bodyDropped: boolean;
  redactor: Redactor;
}

/**
 * Carries out one HTTP exchange for the guest. Every hop, the first and each
 * redirect, is matched against the allow list and its addresses judged
 * before the host connects.
 */
export async function fetchUrl(sandbox: Sandbox, scope: CallScope, call: FetchCall): Promise<void> {
  const policy = sandbox.config.fetch;
  const allowList = sandbox.allowList;
  if (!policy || !allowList) {
    throw new PortholeError('POLICY_DENIED', `fetch is not enabled for sandbox ${sandbox.id}`);
  }

  const req = call.request;
  const method = req.method === '' ? 'GET' : req.method;
  // Parsed once for the audit target and the allow list alike.
  const parsed = parseOrUndefined(req.url);
  scope.target = `${method} ${parsed ? urlForLogs(parsed) : unparsable(req.url)}`;
  if (!METHODS.has(method)) {
    throw new PortholeError('INVALID_ARGUMENT', `method ${JSON.stringify(method.slice(0, 32))} is not one of ${[...METHODS].join(', ')}`, { field: 'method' });
  }
  const guestHeaders = checkRequestHeaders(req.headers);
  const body: Buffer | undefined = req.body.length > 0 ? req.body : undefined;
  if (body && (method === 'GET' || method === 'HEAD')) {
    throw new PortholeError('INVALID_ARGUMENT', `a ${method} request cannot carry a body`, { field: 'body' });
  }
  if (body && body.length > policy.maxRequestBodyBytes) {
    throw new PortholeError('TOO_LARGE', `request body is ${body.length} bytes, the limit is ${policy.maxRequestBodyBytes}`, { field: 'body', limit: policy.maxRequestBodyBytes });
  }
  const timeoutMs = req.timeoutMs > 0 ? Math.min(req.timeoutMs, policy.timeoutMs) : policy.timeoutMs;
  const first = allowList.check(req.url, method, 'url', parsed);
  const exchange: Exchange = {
    method,
    body,
    target: first,
    redirects: 0,
    origin: first.url.origin,
    bodyDropped: false,
    redactor: allowList.redactor,
  };
  // The timer starts after the last check that can throw outside the try
  // below: a refused fetch must not leave its timer running. The guest's
  // cancel reaches the deadline through a hook: a listener on the scope's
  // signal would make that signal, and abort it after every call.
  const deadline = new FetchDeadline(timeoutMs);
  const stopCancelHook = scope.onCancel((reason) => deadline.abort(reason));
  const started = performance.now();
  let answered = false;
  try {
    for (;;) {
      const response = await send(sandbox, scope, exchange, guestHeaders, policy, deadline);
      const location = response.headers.location;
      if (!REDIRECTS.has(response.statusCode) || typeof location !== 'string') {
        answered = true;
        await relay(response, exchange, policy, scope, call, deadline);
        return;
      }
      await response.body.dump();
      follow(exchange, response.statusCode, location, policy, allowList);
    }
  } catch (error) {
    throw upstreamError(error, exchange, timeoutMs, deadline, exchange.redirects > 0 ? 'redirect' : 'url', answered);
  } finally {
    deadline.clear();
    stopCancelHook();
    scope.upstreamMs = performance.now() - started;
  }
}

async function send(
  sandbox: Sandbox,
  scope: CallScope,
  exchange: Exchange,
  guest: ReturnType<typeof checkRequestHeaders>,
  policy: FetchPolicy,
  deadline: FetchDeadline,
): Promise<Dispatcher.ResponseData> {
  const { target, method, body } = exchange;
  const { url } = target;
  scope.target = `${method} ${exchange.redactor.text(urlForLogs(url))}`;
  const crossOrigin = url.origin !== exchange.origin;
  const headers = hopHeaders({
    guest,
    credentials: crossOrigin ? [] : target.rule.credentials,
    crossOrigin,
    bodyDropped: exchange.bodyDropped,
  });
  if (target.literal) sandbox.upstream.checkLiteral(target.rule, target.host, target.port);
  if (body) await scope.pace(body.length, 'in');
  // The Agent's own request: undici's top-level request() would parse the
  // checked URL again and copy these options into one more object.
  return sandbox.upstream.dispatcher(target.rule).request({
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    method: method as Dispatcher.HttpMethod,
    headers,
    body: body ?? null,
    signal: deadline,
    headersTimeout: policy.timeoutMs,
    bodyTimeout: Math.min(policy.idleTimeoutMs, policy.timeoutMs),
  });
}

/** Moves the exchange to a redirect's target, checked as a new request. */
function follow(exchange: Exchange, status: number, location: string, policy: FetchPolicy, allowList: NonNullable<Sandbox['allowList']>): void {
  const next = resolveLocation(location, exchange.target.url);
  if (++exchange.redirects > policy.maxRedirects) {
    throw new PortholeError('UPSTREAM_ERROR', `more than ${policy.maxRedirects} redirects, the last to ${exchange.redactor.text(redactUrl(next))}`, { limit: policy.maxRedirects });
  }
  // As browsers do: 303, and 301/302 after POST, continue as a GET.
  if (status === 303 || (exchange.method === 'POST' && status <= 302)) {
    if (exchange.method !== 'HEAD') exchange.method = 'GET';
    exchange.body = undefined;
    exchange.bodyDropped = true;
  }
  exchange.target = allowList.check(next, exchange.method, 'redirect');
}

async function relay(
  response: Dispatcher.ResponseData,
  exchange: Exchange,
  policy: FetchPolicy,
  scope: CallScope,
  call: FetchCall,
  deadline: FetchDeadline,
): Promise<void> {
  const max = policy.maxResponseBytes;
  const encoding = header(response.headers['content-encoding']);
  const decoded = decodes(encoding);
  const declared = decoded ? -1 : Number(response.headers['content-length'] ?? -1);
  // A HEAD answer declares the size of a body it never sends.
  if (exchange.method !== 'HEAD' && declared > max) {
    await response.body.dump();
    throw new PortholeError('TOO_LARGE', `the response declares ${declared} bytes, the limit is ${max}`, { limit: max });
  }

  const { redactor } = exchange;
  const rewritten = decoded || redactor.active;
  const headSent = scope.send(call, {
    head: {
      status: response.statusCode,
      statusText: '',
      headers: responseHeaders(response.headers, rewritten ? DECODED_SKIP : NOTHING_SKIPPED, (v) => redactor.text(v)),
      finalUrl: redactor.text(exchange.target.url.href),
      redirects: exchange.redirects,
      contentLength: rewritten || !Number.isSafeInteger(declared) ? -1 : declared,
    },
  }, deadline);
  if (headSent) await headSent;

  // Promises only when the byte rate or the guest's buffer makes a chunk wait.
  const sendChunk = (chunk: Buffer): Promise<void> | undefined => scope.send(call, { chunk }, deadline);
  await relayBody(response.body, decoded ? encoding : undefined, { maxBytes: max, maxRatio: policy.maxCompressionRatio }, redactor, (chunk) => {
    const paced = scope.pace(chunk.length, 'out');
    return paced ? paced.then(() => sendChunk(chunk)) : sendChunk(chunk);
  });
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function resolveLocation(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch {
    throw new PortholeError('UPSTREAM_ERROR', `the upstream redirected to an invalid URL ${JSON.stringify(location.slice(0, 200))}`);
  }
}

/** The one place upstream and network failures become Porthole errors. */
function upstreamError(
  error: unknown, exchange: Exchange, timeoutMs: number, deadline: FetchDeadline, field: string, answered: boolean,
): PortholeError {
  if (error instanceof PortholeError) return error;
  // The guest's cancel travels as the deadline's reason.
  if (deadline.aborted && deadline.reason instanceof PortholeError) return deadline.reason;
  const denied = findCause(error, EgressDenied);
  if (denied) return new PortholeError('POLICY_DENIED', `refused to connect: ${denied.message}`, { field });
  const busy = findCause(error, UpstreamBusy);
  if (busy) return new PortholeError('RATE_LIMITED', busy.message, { retryAfterMs: busy.retryAfterMs, limit: busy.limit });

  const { url, host } = exchange.target;
  const code = (error as { code?: string }).code ?? '';
  const where = `${url.protocol}//${url.host}`;
  if (deadline.aborted || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ||
      code === 'UND_ERR_CONNECT_TIMEOUT') {
    // After the head the guest has seen an answer: what ran out is the time for all of it.
    const late = answered ? 'did not send its whole response' : 'did not answer';
    return new PortholeError('TIMEOUT', `${where} ${late} within ${timeoutMs} ms`, { limit: timeoutMs, cause: error });
  }
  if (code === 'UND_ERR_HEADERS_OVERFLOW') {
    return new PortholeError('TOO_LARGE', `${where} sent response headers over the host's limit`, { cause: error });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new PortholeError('UPSTREAM_ERROR', `${host} could not be resolved (${code})`, { cause: error });
  }
  const text = exchange.redactor.text(code || (error as Error).message);
  return new PortholeError('UPSTREAM_ERROR', `${where} failed: ${text}`, { cause: error });
}

function findCause<T extends Error>(error: unknown, type: new (...args: never[]) => T): T | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof type) return e;
  }
  return undefined;
}

/** A URL for logs and errors: no query or fragment, which may hold secrets. */
export function redactUrl(text: string): string {
  const url = parseOrUndefined(text);
  return url ? urlForLogs(url) : unparsable(text);
}

function parseOrUndefined(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function unparsable(text: string): string {
  return JSON.stringify(text.slice(0, 100));
}

function urlForLogs(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
