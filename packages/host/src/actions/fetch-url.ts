import type { ServerWritableStream } from '@grpc/grpc-js';
import {
  MAX_CHUNK_BYTES,
  PortholeError,
  type FetchPolicy,
  type wire,
} from '@porthole/shared';
import { request, type Dispatcher } from 'undici';

import { findEgressDenied } from '../fetch/egress-denied.js';
import { checkRequestHeaders, responseHeaders } from '../fetch/header-rules.js';
import type { AllowedTarget } from '../policy/fetch-policy.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { CallScope } from './call-scope.js';
import { sendMessage } from './send-message.js';

type FetchCall = ServerWritableStream<wire.FetchUrlRequest, wire.FetchUrlResponse>;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

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
  let method = req.method === '' ? 'GET' : req.method;
  scope.target = `${method} ${redactUrl(req.url)}`;
  if (!METHODS.has(method)) {
    throw new PortholeError('INVALID_ARGUMENT', `method ${JSON.stringify(method.slice(0, 32))} is not one of ${[...METHODS].join(', ')}`, { field: 'method' });
  }
  const headers = checkRequestHeaders(req.headers);
  let body: Buffer | undefined = req.body.length > 0 ? req.body : undefined;
  if (body && (method === 'GET' || method === 'HEAD')) {
    throw new PortholeError('INVALID_ARGUMENT', `a ${method} request cannot carry a body`, { field: 'body' });
  }
  if (body && body.length > policy.maxRequestBodyBytes) {
    throw new PortholeError('TOO_LARGE', `request body is ${body.length} bytes, the limit is ${policy.maxRequestBodyBytes}`, { field: 'body', limit: policy.maxRequestBodyBytes });
  }
  const timeoutMs = req.timeoutMs > 0 ? Math.min(req.timeoutMs, policy.timeoutMs) : policy.timeoutMs;
  const deadline = AbortSignal.any([scope.signal, AbortSignal.timeout(timeoutMs)]);

  let target = allowList.check(req.url, method);
  let redirects = 0;
  try {
    for (;;) {
      scope.target = `${method} ${redactUrl(target.url.href)}`;
      if (target.literal) sandbox.upstream.checkLiteral(target.rule, target.host, target.port);
      if (body) await scope.pace(body.length);
      const response = await request(target.url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body: body ?? null,
        dispatcher: sandbox.upstream.dispatcher(target.rule),
        signal: deadline,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });

      const location = response.headers.location;
      if (!REDIRECTS.has(response.statusCode) || typeof location !== 'string') {
        await relay(response, method, target, redirects, policy, scope, call, deadline);
        return;
      }

      await response.body.dump();
      const next = resolveLocation(location, target.url);
      if (++redirects > policy.maxRedirects) {
        throw new PortholeError('UPSTREAM_ERROR', `more than ${policy.maxRedirects} redirects, the last to ${redactUrl(next)}`, { limit: policy.maxRedirects });
      }
      // As browsers do: 303, and 301/302 after POST, continue as a GET.
      if (response.statusCode === 303 || (method === 'POST' && response.statusCode <= 302)) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
      }
      target = allowList.check(next, method, 'redirect');
    }
  } catch (error) {
    throw upstreamError(error, target, timeoutMs, scope.signal, redirects > 0 ? 'redirect' : 'url');
  }
}

async function relay(
  response: Dispatcher.ResponseData,
  method: string,
  target: AllowedTarget,
  redirects: number,
  policy: FetchPolicy,
  scope: CallScope,
  call: FetchCall,
  signal: AbortSignal,
): Promise<void> {
  const max = policy.maxResponseBytes;
  const declared = Number(response.headers['content-length'] ?? -1);
  // A HEAD answer declares the size of a body it never sends.
  if (method !== 'HEAD' && declared > max) {
    await response.body.dump();
    throw new PortholeError('TOO_LARGE', `the response declares ${declared} bytes, the limit is ${max}`, { limit: max });
  }

  await sendMessage(call, {
    head: {
      status: response.statusCode,
      statusText: '',
      headers: responseHeaders(response.headers),
      finalUrl: target.url.href,
      redirects,
      contentLength: Number.isSafeInteger(declared) ? declared : -1,
    },
  }, signal);

  let total = 0;
  for await (const data of response.body as AsyncIterable<Buffer>) {
    total += data.length;
    if (total > max) {
      response.body.destroy();
      throw new PortholeError('TOO_LARGE', `the response body passed the ${max}-byte limit`, { limit: max });
    }
    for (let at = 0; at < data.length; at += MAX_CHUNK_BYTES) {
      const chunk = data.subarray(at, at + MAX_CHUNK_BYTES);
      await scope.pace(chunk.length);
      await sendMessage(call, { chunk }, signal);
    }
  }
}

function resolveLocation(location: string, base: URL): string {
  try {
    return new URL(location, base).href;
  } catch {
    throw new PortholeError('UPSTREAM_ERROR', `the upstream redirected to an invalid URL ${JSON.stringify(location.slice(0, 200))}`);
  }
}

/** The one place upstream and network failures become Porthole errors. */
function upstreamError(error: unknown, target: AllowedTarget, timeoutMs: number, cancelled: AbortSignal, field: string): PortholeError {
  if (error instanceof PortholeError) return error;
  const denied = findEgressDenied(error);
  if (denied) return new PortholeError('POLICY_DENIED', `refused to connect: ${denied.message}`, { field });
  if (cancelled.aborted) return new PortholeError('UNAVAILABLE', 'the fetch was cancelled');

  const code = (error as { code?: string }).code ?? '';
  const where = `${target.url.protocol}//${target.url.host}`;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ||
      code === 'UND_ERR_CONNECT_TIMEOUT' || (error as Error).name === 'TimeoutError' ||
      (error as Error).name === 'AbortError') {
    return new PortholeError('TIMEOUT', `${where} did not answer within ${timeoutMs} ms`, { limit: timeoutMs, cause: error });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new PortholeError('UPSTREAM_ERROR', `${target.host} could not be resolved (${code})`, { cause: error });
  }
  return new PortholeError('UPSTREAM_ERROR', `${where} failed: ${code || (error as Error).message}`, { cause: error });
}

/** A URL for logs and errors: no query or fragment, which may hold secrets. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return JSON.stringify(text.slice(0, 100));
  }
}
