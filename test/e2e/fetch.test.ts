import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { credentials } from '@grpc/grpc-js';
import { portholeClientClass, PortholeError, type wire } from '@porthole/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sandboxEntry, TestHost } from '../support/host-fixture.js';
import { refusal } from '../support/refusal.js';
import { Upstream } from '../support/upstream.js';

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
const LARGE = randomBytes(8 * 1024 * 1024);
const SMALL_LIMIT = 1024;

/** A promise and the function that settles it, for upstreams that wait on the test. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects if `promise` has not settled within `ms`: every wait is bounded. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `condition` every 10 ms until it holds, failing after `ms`. */
async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (let tries = 0; tries < ms / 10 + 1 && !condition(); tries++) {
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (!condition()) throw new Error(`${what} did not happen within ${ms} ms`);
}


function failure(code: string, message: string, field?: string, limit?: number): Record<string, unknown> {
  return { code, field, limit, message };
}

/** A port that was just listened on and closed: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('FetchUrl', () => {
  let host: TestHost;
  let upstream: Upstream;
  let refusedPort: number;

  // Set by the streaming routes, read by their tests.
  let sseRelease = deferred();
  let sseLastSent = false;
  const slow: { socket: Socket | undefined; closed: boolean } = { socket: undefined, closed: false };

  beforeAll(async () => {
    upstream = await new Upstream({
      '/hello': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 5, 'x-upstream': 'yes' }).end('hello');
      },
      '/echo': (req, res, body) => {
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({
          method: req.method, contentType: req.headers['content-type'] ?? null, body: body.toString(),
        }));
      },
      '/large': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': LARGE.length }).end(LARGE);
      },
      '/sized': (req, res) => {
        const size = Number(new URL(req.url ?? '', 'http://x').searchParams.get('n'));
        res.writeHead(200, { 'content-length': size }).end(Buffer.alloc(size, 0x61));
      },
      '/chunked': (req, res) => {
        const size = Number(new URL(req.url ?? '', 'http://x').searchParams.get('n'));
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let sent = 0; sent < size; sent += 256) res.write(Buffer.alloc(Math.min(256, size - sent), 0x62));
        res.end();
      },
      '/sse': (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write('data: one\n\n');
        void sseRelease.promise.then(() => {
          sseLastSent = true;
          res.end('data: two\n\n');
        });
      },
      '/slow': (req, res) => {
        slow.socket = req.socket;
        req.socket.once('close', () => (slow.closed = true));
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first');
        // Never ends: only the host giving up closes this socket.
      },
      '/hang': () => {
        // Never answers.
      },
      '/redirect': (_req, res) => {
        res.writeHead(302, { location: '/hello?via=redirect' }).end();
      },
      '/redirect-out': (_req, res) => {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      },
      '/loop': (_req, res) => {
        res.writeHead(302, { location: '/loop' }).end();
      },
      '/see-other': (_req, res) => {
        res.writeHead(303, { location: '/echo?after=303' }).end();
      },
      '/temporary': (_req, res) => {
        res.writeHead(307, { location: '/echo?after=307' }).end();
      },
    }).listen();
    refusedPort = await closedPort();

    const local = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
      ({ scheme: 'http', host: '127.0.0.1', port: upstream.port, ...extra });
    host = await TestHost.start({
      sandboxes: [
        sandboxEntry('alpha', {
          fetch: {
            allow: [local({ methods: ALL_METHODS }), { scheme: 'http', host: '127.0.0.1', port: refusedPort }],
            maxResponseBytes: '16MiB',
          },
        }),
        sandboxEntry('small', {
          fetch: {
            allow: [local({ methods: ['GET', 'HEAD', 'POST'] })],
            maxResponseBytes: SMALL_LIMIT,
            maxRequestBodyBytes: SMALL_LIMIT,
            maxRedirects: 2,
            timeoutMs: 300,
          },
        }),
      ],
    });
  });

  afterAll(async () => {
    await host?.stop();
    await upstream?.close();
  });

  /** What the upstream received for one path and query. */
  const received = (url: string) => upstream.requests.filter((r) => r.url === url);

  describe('exchanges', () => {
    it('relays a GET with its status, headers and final URL', async () => {
      const response = await host.client().fetch(`${upstream.origin}/hello?q=1`);
      expect({
        status: response.status,
        ok: response.ok,
        url: response.url,
        redirected: response.redirected,
        contentType: response.headers.get('content-type'),
        custom: response.headers.get('x-upstream'),
        length: response.headers.get('content-length'),
        body: await response.text(),
      }).toStrictEqual({
        status: 200,
        ok: true,
        url: `${upstream.origin}/hello?q=1`,
        redirected: false,
        contentType: 'text/plain',
        custom: 'yes',
        length: '5',
        body: 'hello',
      });
      expect(received('/hello?q=1')).toHaveLength(1);
    });

    it('sends a POST body and its content-type to the upstream', async () => {
      const payload = JSON.stringify({ name: 'porthole', n: 42 });
      const response = await host.client().fetch(`${upstream.origin}/echo?t=post`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-trace': 'abc' },
        body: payload,
      });
      expect(response.status).toBe(201);
      expect(await response.json()).toStrictEqual({ method: 'POST', contentType: 'application/json', body: payload });
      const [seen] = received('/echo?t=post');
      expect({
        method: seen?.method,
        body: seen?.body.toString(),
        contentType: seen?.headers['content-type'],
        contentLength: seen?.headers['content-length'],
        trace: seen?.headers['x-trace'],
      }).toStrictEqual({
        method: 'POST',
        body: payload,
        contentType: 'application/json',
        contentLength: String(Buffer.byteLength(payload)),
        trace: 'abc',
      });
    });

    it('answers a HEAD with the headers and no body', async () => {
      const response = await host.client().fetch(`${upstream.origin}/large?t=head`, { method: 'HEAD' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-length')).toBe(String(LARGE.length));
      expect((await response.bytes()).length).toBe(0);
      expect(received('/large?t=head').map((r) => r.method)).toStrictEqual(['HEAD']);
    });

    it('answers a HEAD for a body larger than maxResponseBytes, which it never reads', async () => {
      const response = await host.client('small').fetch(`${upstream.origin}/large?t=head-small`, { method: 'HEAD' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-length')).toBe(String(LARGE.length));
      expect((await response.bytes()).length).toBe(0);
    });

    it('streams an 8 MiB body intact', async () => {
      const response = await host.client().fetch(`${upstream.origin}/large`);
      const hash = createHash('sha256');
      let length = 0;
      for await (const part of response.body) {
        hash.update(part);
        length += part.length;
      }
      expect({ length, sha256: hash.digest('hex') }).toStrictEqual({
        length: LARGE.length,
        sha256: createHash('sha256').update(LARGE).digest('hex'),
      });
    });

    it('hands the guest the first chunk before the upstream has sent the last', async () => {
      sseRelease = deferred();
      sseLastSent = false;
      const response = await host.client().fetch(`${upstream.origin}/sse`);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const reader = response.body.getReader();

      // The upstream holds its last chunk until this test releases it, so a
      // host that buffered the body would never deliver the first.
      const first = await within(reader.read(), 10_000, 'the first chunk');
      expect(new TextDecoder().decode(first.value)).toBe('data: one\n\n');
      expect(sseLastSent).toBe(false);

      sseRelease.resolve();
      let rest = '';
      for (let i = 0; i < 100; i++) {
        const next = await within(reader.read(), 10_000, 'the rest of the stream');
        if (next.done) break;
        rest += new TextDecoder().decode(next.value);
      }
      expect({ rest, sseLastSent }).toStrictEqual({ rest: 'data: two\n\n', sseLastSent: true });
    });

    it('stops the upstream exchange when the guest cancels', async () => {
      Object.assign(slow, { socket: undefined, closed: false });
      const controller = new AbortController();
      const response = await host.client().fetch(`${upstream.origin}/slow`, { signal: controller.signal });
      const reader = response.body.getReader();
      const first = await within(reader.read(), 10_000, 'the first chunk');
      expect(new TextDecoder().decode(first.value)).toBe('first');
      expect(slow.socket?.destroyed).toBe(false);

      controller.abort();
      const read = await within(reader.read().then(() => 'resolved', (e: unknown) => e), 10_000, 'the read to end');
      expect(read).toMatchObject({ code: 'UNAVAILABLE' });
      await until(() => slow.closed, 10_000, 'the upstream socket closing');
      expect(slow.socket?.destroyed).toBe(true);

      // The host records the call once it has wound down.
      let entries: unknown[] = [];
      for (let i = 0; i < 100 && entries.length === 0; i++) {
        entries = (await host.audit()).filter((e) => e.target.endsWith('/slow')).map((e) => [e.decision, e.reason, e.message]);
        if (entries.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(entries).toStrictEqual([['failed', 'UNAVAILABLE', 'the guest cancelled the call']]);
    });

    it('replaces the guest accept-encoding with what the host decodes and passes other headers', async () => {
      await host.client().fetch(`${upstream.origin}/hello?t=encoding`, {
        headers: { 'accept-encoding': 'zstd', 'x-request-id': 'r-1', authorization: 'Bearer t' },
      }).then((r) => r.text());
      const [seen] = received('/hello?t=encoding');
      expect({
        encoding: seen?.headers['accept-encoding'],
        id: seen?.headers['x-request-id'],
        authorization: seen?.headers.authorization,
        host: seen?.headers.host,
      }).toStrictEqual({
        encoding: 'gzip, deflate, br',
        id: 'r-1',
        authorization: 'Bearer t',
        host: `127.0.0.1:${upstream.port}`,
      });
    });
  });

  describe('redirects', () => {
    it('follows a redirect within policy and reports the final URL', async () => {
      const response = await host.client().fetch(`${upstream.origin}/redirect`);
      expect({ status: response.status, url: response.url, redirected: response.redirected, body: await response.text() })
        .toStrictEqual({ status: 200, url: `${upstream.origin}/hello?via=redirect`, redirected: true, body: 'hello' });
      expect(received('/hello?via=redirect')).toHaveLength(1);
    });

    it('refuses a redirect to a URL outside policy, naming the redirect', async () => {
      const dialled = host.dialled.length;
      expect(await refusal(host.client().fetch(`${upstream.origin}/redirect-out`))).toStrictEqual(failure(
        'POLICY_DENIED', 'no fetch rule allows GET http://169.254.169.254/latest/meta-data/', 'redirect',
      ));
      expect(host.dialled.slice(dialled)).toStrictEqual(['127.0.0.1']);
    });

    it('gives up after maxRedirects with UPSTREAM_ERROR', async () => {
      const before = received('/loop').length;
      expect(await refusal(host.client('small').fetch(`${upstream.origin}/loop`))).toStrictEqual(failure(
        'UPSTREAM_ERROR', `more than 2 redirects, the last to ${upstream.origin}/loop`, undefined, 2,
      ));
      expect(received('/loop').length - before).toBe(3);
    });

    it('continues a POST answered with 303 as a GET without the body', async () => {
      const response = await host.client().fetch(`${upstream.origin}/see-other`, {
        method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'payload',
      });
      expect({ status: response.status, url: response.url, redirected: response.redirected }).toStrictEqual({
        status: 201, url: `${upstream.origin}/echo?after=303`, redirected: true,
      });
      expect(await response.json()).toMatchObject({ method: 'GET', body: '' });
      const [seen] = received('/echo?after=303');
      expect({ method: seen?.method, body: seen?.body.length, length: seen?.headers['content-length'] })
        .toStrictEqual({ method: 'GET', body: 0, length: undefined });
    });

    it('repeats a POST and its body on 307', async () => {
      const response = await host.client().fetch(`${upstream.origin}/temporary`, {
        method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'again',
      });
      expect(await response.json()).toStrictEqual({ method: 'POST', contentType: 'text/plain', body: 'again' });
      expect(received('/echo?after=307').map((r) => [r.method, r.body.toString()])).toStrictEqual([['POST', 'again']]);
    });
  });

  describe('limits and failures', () => {
    it('passes a body of exactly maxResponseBytes', async () => {
      const sized = await host.client('small').fetch(`${upstream.origin}/sized?n=${SMALL_LIMIT}`);
      expect((await sized.bytes()).length).toBe(SMALL_LIMIT);
      const chunked = await host.client('small').fetch(`${upstream.origin}/chunked?n=${SMALL_LIMIT}`);
      expect((await chunked.bytes()).length).toBe(SMALL_LIMIT);
    });

    it('refuses a response that declares more than maxResponseBytes', async () => {
      expect(await refusal(host.client('small').fetch(`${upstream.origin}/sized?n=${SMALL_LIMIT + 1}`))).toStrictEqual(failure(
        'TOO_LARGE', `the response declares ${SMALL_LIMIT + 1} bytes, the limit is ${SMALL_LIMIT}`, undefined, SMALL_LIMIT,
      ));
    });

    it('stops a chunked response once it passes maxResponseBytes', async () => {
      const reading = host.client('small').fetch(`${upstream.origin}/chunked?n=${4 * SMALL_LIMIT}`).then((r) => r.bytes());
      expect(await refusal(reading)).toStrictEqual(failure(
        'TOO_LARGE', `the response body passed the ${SMALL_LIMIT}-byte limit`, undefined, SMALL_LIMIT,
      ));
    });

    it('times out an upstream that never answers', async () => {
      expect(await refusal(host.client('small').fetch(`${upstream.origin}/hang?t=policy`))).toStrictEqual(failure(
        'TIMEOUT', `${upstream.origin} did not answer within 300 ms`, undefined, 300,
      ));
    });

    it('says the whole response was late when the upstream answered and then stalled', async () => {
      const response = await host.client().fetch(`${upstream.origin}/slow?t=stall`, { timeoutMs: 300 });
      expect(response.status).toBe(200);
      expect(await refusal(response.text())).toStrictEqual(failure(
        'TIMEOUT', `${upstream.origin} did not send its whole response within 300 ms`, undefined, 300,
      ));
    });

    it('uses a guest timeout shorter than the policy timeout', async () => {
      expect(await refusal(host.client().fetch(`${upstream.origin}/hang?t=guest`, { timeoutMs: 200 }))).toStrictEqual(failure(
        'TIMEOUT', `${upstream.origin} did not answer within 200 ms`, undefined, 200,
      ));
    });

    it('reports a refused connection as UPSTREAM_ERROR', async () => {
      expect(await refusal(host.client().fetch(`http://127.0.0.1:${refusedPort}/`))).toStrictEqual(failure(
        'UPSTREAM_ERROR', `http://127.0.0.1:${refusedPort} failed: ECONNREFUSED`,
      ));
    });
  });

  describe('request hygiene', () => {
    let raw: InstanceType<ReturnType<typeof portholeClientClass>>;
    beforeAll(() => {
      const Client = portholeClientClass();
      raw = new Client(host.address(), credentials.createInsecure());
    });
    afterAll(() => raw.close());

    /** A FetchUrl sent as raw wire messages, past the SDK's own header checks. */
    function rawFetch(request: Partial<wire.FetchUrlRequest>): Promise<unknown> {
      const call = raw.fetchUrl({ url: `${upstream.origin}/hello?t=raw`, ...request });
      return new Promise((resolve, reject) => {
        call.on('data', () => undefined);
        call.on('error', (error) => reject(PortholeError.from(error)));
        call.on('end', () => resolve(undefined));
      });
    }

    it.each(['host', 'Connection', 'transfer-encoding', 'proxy-authorization', 'upgrade', 'content-length', 'proxy-foo'])(
      'refuses the host-owned header %s, naming its index',
      async (name) => {
        const headers = [{ name: 'x-ok', value: '1' }, { name: 'accept', value: '*/*' }, { name, value: 'x' }];
        expect(await refusal(rawFetch({ headers }))).toStrictEqual(failure(
          'INVALID_ARGUMENT', `headers[2].name ${JSON.stringify(name)} is set by the host, not the guest`, 'headers[2].name',
        ));
      },
    );

    it('refuses a host-owned header sent through the SDK', async () => {
      expect(await refusal(host.client().fetch(`${upstream.origin}/hello`, { headers: { host: 'evil.example.test' } })))
        .toStrictEqual(failure('INVALID_ARGUMENT', 'headers[0].name "host" is set by the host, not the guest', 'headers[0].name'));
    });

    it.each(['a\r\nx-injected: 1', 'a\nb', 'a\rb', 'a\0b'])('refuses a header value holding %j', async (value) => {
      const headers = [{ name: 'x-ok', value: '1' }, { name: 'x-bad', value }];
      expect(await refusal(rawFetch({ headers }))).toStrictEqual(failure(
        'INVALID_ARGUMENT', 'headers[1].value holds a CR, LF or NUL character', 'headers[1].value',
      ));
    });

    it('refuses a header name that is not a token', async () => {
      expect(await refusal(rawFetch({ headers: [{ name: 'x bad:', value: '1' }] }))).toStrictEqual(failure(
        'INVALID_ARGUMENT', 'headers[0].name "x bad:" is not a valid header name', 'headers[0].name',
      ));
    });

    it('refuses more than 64 headers and accepts 64', async () => {
      const headers = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `x-h${i}`, value: String(i) }));
      expect(await refusal(rawFetch({ headers: headers(65) }))).toStrictEqual(failure(
        'INVALID_ARGUMENT', '65 headers were sent, at most 64 are allowed', 'headers', 64,
      ));
      await expect(rawFetch({ headers: headers(64), url: `${upstream.origin}/hello?t=64` })).resolves.toBeUndefined();
      expect(received('/hello?t=64')[0]?.headers['x-h63']).toBe('63');
    });

    it.each(['GET', 'HEAD'])('refuses a body on %s', async (method) => {
      expect(await refusal(host.client().fetch(`${upstream.origin}/echo`, { method, body: 'x' }))).toStrictEqual(failure(
        'INVALID_ARGUMENT', `a ${method} request cannot carry a body`, 'body',
      ));
    });

    it('refuses a body over maxRequestBodyBytes and accepts one at it', async () => {
      const url = `${upstream.origin}/echo?t=body-limit`;
      expect(await refusal(host.client('small').fetch(url, { method: 'POST', body: Buffer.alloc(SMALL_LIMIT + 1) }))).toStrictEqual(failure(
        'TOO_LARGE', `request body is ${SMALL_LIMIT + 1} bytes, the limit is ${SMALL_LIMIT}`, 'body', SMALL_LIMIT,
      ));
      const response = await host.client('small').fetch(url, { method: 'POST', body: Buffer.alloc(SMALL_LIMIT) });
      expect(response.status).toBe(201);
      expect(received(url.slice(upstream.origin.length)).map((r) => r.body.length)).toStrictEqual([SMALL_LIMIT]);
    });

    it.each(['BREW', 'CONNECT', 'TRACE', 'get'])('refuses the method %s', async (method) => {
      expect(await refusal(rawFetch({ method }))).toStrictEqual(failure(
        'INVALID_ARGUMENT', `method "${method}" is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS`, 'method',
      ));
    });

    it.each([
      ['/relative', 'url "/relative" is not an absolute URL'],
      ['127.0.0.1/hello', 'url "127.0.0.1/hello" is not an absolute URL'],
      ['ftp://127.0.0.1/file', 'url scheme ftp: is not http: or https:'],
      ['file:///etc/passwd', 'url scheme file: is not http: or https:'],
      ['http://user:pw@127.0.0.1/', 'url carries user info; credentials in URLs are refused'],
    ])('refuses the URL %s', async (url, message) => {
      expect(await refusal(host.client().fetch(url))).toStrictEqual(failure('INVALID_ARGUMENT', message, 'url'));
    });

    it('sent nothing upstream for any refused request', () => {
      expect(received('/hello?t=raw')).toStrictEqual([]);
      expect(upstream.requests.filter((r) => r.url === '/echo')).toStrictEqual([]);
    });
  });
});
