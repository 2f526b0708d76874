import {
  MAX_HEADER_BYTES,
  MAX_REQUEST_HEADERS,
  PortholeError,
  type wire,
} from '@porthole/shared';
import type { IncomingHttpHeaders } from 'node:http';

// Headers that describe the connection, not the request: the host owns its
// connections, so a guest may not set them.
const HOST_OWNED = new Set([
  'host', 'connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate',
  'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'content-length', 'expect', 'http2-settings',
]);

// The host asks for identity encoding so the body the guest reads is the
// body the limits counted.
// TODO(limit): compressed upstream bodies are passed through undecoded when
// a server ignores accept-encoding: identity.
const REPLACED = new Set(['accept-encoding']);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Validates guest headers into the list the host sends, naming the bad field. */
export function checkRequestHeaders(headers: readonly wire.Header[]): string[] {
  if (headers.length > MAX_REQUEST_HEADERS) {
    throw new PortholeError('INVALID_ARGUMENT', `${headers.length} headers were sent, at most ${MAX_REQUEST_HEADERS} are allowed`, { field: 'headers', limit: MAX_REQUEST_HEADERS });
  }
  const flat: string[] = [];
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
    if (!REPLACED.has(lower)) flat.push(name, value);
  });
  flat.push('accept-encoding', 'identity');
  return flat;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'trailer', 'te']);

/** Upstream response headers as the guest sees them, hop-by-hop ones removed. */
export function responseHeaders(headers: IncomingHttpHeaders): wire.Header[] {
  const out: wire.Header[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (HOP_BY_HOP.has(name) || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) out.push({ name, value: one });
  }
  return out;
}
