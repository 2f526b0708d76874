import {
  MAX_HEADER_BYTES,
  MAX_REQUEST_HEADERS,
  PortholeError,
  type wire,
} from '@porthole/shared';
import type { IncomingHttpHeaders } from 'node:http';

import type { ResolvedCredential } from './credentials.js';

/** Guest headers after validation: lower-case names, in the guest's order. */
export type HeaderList = [name: string, value: string][];

// Headers that describe the connection, not the request: the host owns its
// connections, so a guest may not set them.
const HOST_OWNED = new Set([
  'host', 'connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate',
  'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'content-length', 'expect', 'http2-settings',
]);

// The host decodes what it asks for, so it says what it accepts; the guest
// reads decoded bytes and their limits are counted on them.
const ACCEPT_ENCODING = 'gzip, deflate, br';

// Sent only to the origin the guest named: a redirect elsewhere drops them.
const ORIGIN_BOUND = new Set(['authorization', 'cookie']);

// Describe a body; dropped when a redirect turns the request into a GET.
const BODY_HEADERS = new Set(['content-type', 'content-encoding', 'content-language', 'content-location']);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Validates guest headers, naming the first bad field. */
export function checkRequestHeaders(headers: readonly wire.Header[]): HeaderList {
  if (headers.length > MAX_REQUEST_HEADERS) {
    throw new PortholeError('INVALID_ARGUMENT', `${headers.length} headers were sent, at most ${MAX_REQUEST_HEADERS} are allowed`, { field: 'headers', limit: MAX_REQUEST_HEADERS });
  }
  const list: HeaderList = [];
  headers.forEach(({ name = '', value = '' }, index) => {
    const field = `headers[${index}]`;
    if (!TOKEN.test(name)) {
      throw new PortholeError('INVALID_ARGUMENT', `${field}.name ${JSON.stringify(name.slice(0, 64))} is not a valid header name`, { field: `${field}.name` });
    }
    if (/[\r\n\0]/.test(value)) {
      throw new PortholeError('INVALID_ARGUMENT', `${field}.value holds a CR, LF or NUL character`, { field: `${field}.value` });
    }
    if (name.length + value.length > MAX_HEADER_BYTES) {
      throw new PortholeError('INVALID_ARGUMENT', `${field} is over ${MAX_HEADER_BYTES} bytes`, { field, limit: MAX_HEADER_BYTES });
    }
    const lower = name.toLowerCase();
    if (HOST_OWNED.has(lower) || lower.startsWith('proxy-')) {
      throw new PortholeError('INVALID_ARGUMENT', `${field}.name ${JSON.stringify(name)} is set by the host, not the guest`, { field: `${field}.name` });
    }
    if (lower !== 'accept-encoding') list.push([lower, value]);
  });
  return list;
}

export interface HopHeaders {
  guest: HeaderList;
  /** Credentials of the rule this hop matched; empty on another origin. */
  credentials: readonly ResolvedCredential[];
  /** The hop goes to another origin than the guest's first URL. */
  crossOrigin: boolean;
  /** A redirect turned the request into a body-less GET. */
  bodyDropped: boolean;
}

/** The flat header list undici sends for one hop. */
export function hopHeaders({ guest, credentials, crossOrigin, bodyDropped }: HopHeaders): string[] {
  const injected = new Map(credentials.map((c) => [c.header, c]));
  const flat: string[] = [];
  guest.forEach(([name, value], index) => {
    if (crossOrigin && ORIGIN_BOUND.has(name)) return;
    if (bodyDropped && BODY_HEADERS.has(name)) return;
    const credential = injected.get(name);
    if (credential?.guestHeader === 'refuse') {
      throw new PortholeError('INVALID_ARGUMENT', `headers[${index}].name ${JSON.stringify(name)} is set by the host for this destination`, { field: `headers[${index}].name` });
    }
    if (!credential) flat.push(name, value);
  });
  for (const credential of credentials) flat.push(credential.header, credential.value);
  flat.push('accept-encoding', ACCEPT_ENCODING);
  return flat;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'trailer', 'te']);

/**
 * Upstream response headers as the guest sees them: hop-by-hop ones removed,
 * and `skip` (headers the host rewrote, such as a decoded body's encoding).
 */
export function responseHeaders(headers: IncomingHttpHeaders, skip: ReadonlySet<string>, redact: (text: string) => string): wire.Header[] {
  const out: wire.Header[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (HOP_BY_HOP.has(name) || skip.has(name) || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) out.push({ name, value: redact(one) });
  }
  return out;
}
