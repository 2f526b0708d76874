import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { afterEach, describe, expect, it } from 'vitest';

import { sandboxEntry, TestHost } from '../support/host-fixture.js';
import { Upstream } from '../support/upstream.js';

const SECRET = 'sk-live-7f3a9c2e11d04b8f';

describe('FetchUrl hardening', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    delete process.env.PORTHOLE_TEST_TOKEN;
  });

  async function upstream(routes: ConstructorParameters<typeof Upstream>[0], address?: string): Promise<Upstream> {
    const server = await new Upstream(routes).listen(address);
    cleanups.push(() => server.close());
    return server;
  }

  async function host(fetch: Record<string, unknown>, options: Parameters<typeof TestHost.start>[0] = {}): Promise<TestHost> {
    const started = await TestHost.start({ sandboxes: [sandboxEntry('alpha', { fetch })], ...options });
    cleanups.push(() => started.stop());
    return started;
  }

  describe('credential injection', () => {
    it('adds the secret to matching requests and hides every echo of it from the guest', async () => {
      process.env.PORTHOLE_TEST_TOKEN = SECRET;
      const api = await upstream({
        '/v1/echo': (req, res) => {
          const auth = String(req.headers.authorization);
          res.writeHead(200, { 'x-echo': auth });
          // The echo is split across two writes to test redaction across chunks.
          res.write(`you sent ${auth.slice(0, 15)}`);
          setTimeout(() => res.end(`${auth.slice(15)} back`), 20);
        },
      });
      const h = await host({
        allow: [{
          scheme: 'http', host: '127.0.0.1', port: api.port, pathPrefix: '/v1/',
          inject: [{ header: 'Authorization', from: { env: 'PORTHOLE_TEST_TOKEN' }, prefix: 'Bearer ' }],
        }],
      });

      const response = await h.client().fetch(`${api.origin}/v1/echo`);
      expect(api.requests[0]?.headers.authorization).toBe(`Bearer ${SECRET}`);
      expect(response.headers.get('x-echo')).toBe('[redacted]');
      expect(await response.text()).toBe('you sent [redacted] back');

      const audit = JSON.stringify(await h.audit());
      expect(audit).toContain('/v1/echo');
      expect(audit).not.toContain(SECRET);
    });

    it('injects and hides the secret a reload read, not the one it replaced', async () => {
      process.env.PORTHOLE_TEST_TOKEN = SECRET;
      const api = await upstream({
        '/v1/echo': (req, res) => {
          const auth = String(req.headers.authorization);
          res.writeHead(200, { 'x-echo': auth });
          res.end(`you sent ${auth} back`);
        },
      });
      const fetch = {
        allow: [{
          scheme: 'http', host: '127.0.0.1', port: api.port, pathPrefix: '/v1/',
          inject: [{ header: 'Authorization', from: { env: 'PORTHOLE_TEST_TOKEN' }, prefix: 'Bearer ' }],
        }],
      };
      const h = await host(fetch);
      const client = h.client();
      expect(await (await client.fetch(`${api.origin}/v1/echo`)).text()).toBe('you sent [redacted] back');

      const rotated = 'sk-live-0b1e77d2a95c4f60';
      process.env.PORTHOLE_TEST_TOKEN = rotated;
      await h.reload([sandboxEntry('alpha', { fetch })]);
      const response = await client.fetch(`${api.origin}/v1/echo`);
      expect(api.requests[1]?.headers.authorization).toBe(`Bearer ${rotated}`);
      expect(response.headers.get('x-echo')).toBe('[redacted]');
      expect(await response.text()).toBe('you sent [redacted] back');
    });

    it('refuses a guest header of the same name, or replaces it when policy says so', async () => {
      process.env.PORTHOLE_TEST_TOKEN = SECRET;
      const api = await upstream({ '/v1/x': (_req, res) => res.end('ok') });
      const rule = { scheme: 'http', host: '127.0.0.1', port: api.port, pathPrefix: '/v1/' };
      const h = await host({
        allow: [
          { ...rule, methods: ['GET'], inject: [{ header: 'x-api-key', from: { env: 'PORTHOLE_TEST_TOKEN' } }] },
          { ...rule, methods: ['POST'], inject: [{ header: 'x-api-key', from: { env: 'PORTHOLE_TEST_TOKEN' }, guestHeader: 'replace' }] },
        ],
      });
      const refused = await h.client().fetch(`${api.origin}/v1/x`, { headers: { 'X-Api-Key': 'guess' } }).catch((e: unknown) => e);
      expect(refused).toMatchObject({
        code: 'INVALID_ARGUMENT',
        field: 'headers[0].name',
        message: 'headers[0].name "x-api-key" is set by the host for this destination',
      });
      expect(api.requests).toHaveLength(0);

      await h.client().fetch(`${api.origin}/v1/x`, { method: 'POST', body: 'b', headers: { 'X-Api-Key': 'guess' } });
      expect(api.requests[0]?.headers['x-api-key']).toBe(SECRET);
    });

    it('drops injected and guest credentials on a redirect to another origin', async () => {
      process.env.PORTHOLE_TEST_TOKEN = SECRET;
      const other = await upstream({ '/v1/landing': (_req, res) => res.end('landed') });
      const api = await upstream({
        '/v1/go': (_req, res) => res.writeHead(302, { location: `${other.origin}/v1/landing?echo=${SECRET}` }).end(),
      });
      const inject = [{ header: 'authorization', from: { env: 'PORTHOLE_TEST_TOKEN' } }];
      const h = await host({
        allow: [
          { scheme: 'http', host: '127.0.0.1', port: api.port, pathPrefix: '/v1/', inject },
          { scheme: 'http', host: '127.0.0.1', port: other.port, pathPrefix: '/v1/', inject },
        ],
      });
      const response = await h.client().fetch(`${api.origin}/v1/go`, { headers: { cookie: 'session=guest' } });
      expect(await response.text()).toBe('landed');
      expect(api.requests[0]?.headers).toMatchObject({ authorization: SECRET, cookie: 'session=guest' });
      expect(other.requests[0]?.headers.authorization).toBeUndefined();
      expect(other.requests[0]?.headers.cookie).toBeUndefined();
      expect(response.url).toBe(`${other.origin}/v1/landing?echo=[redacted]`);
    });

    it('drops body headers when a 303 turns a POST into a GET', async () => {
      const api = await upstream({
        '/v1/post': (_req, res) => res.writeHead(303, { location: '/v1/result' }).end(),
        '/v1/result': (_req, res) => res.end('done'),
      });
      const h = await host({ allow: [{ scheme: 'http', host: '127.0.0.1', port: api.port, pathPrefix: '/v1/', methods: ['GET', 'POST'] }] });
      await h.client().fetch(`${api.origin}/v1/post`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(api.requests.map((r) => [r.method, r.url, r.headers['content-type']])).toEqual([
        ['POST', '/v1/post', 'application/json'],
        ['GET', '/v1/result', undefined],
      ]);
    });

    it('refuses to start when a secret cannot be read, naming the field', async () => {
      const error = await TestHost.start({
        sandboxes: [sandboxEntry('alpha', {
          fetch: { allow: [{ scheme: 'https', host: 'api.example.test', inject: [{ header: 'authorization', from: { env: 'PORTHOLE_TEST_MISSING' } }] }] },
        })],
      }).catch((e: unknown) => e);
      expect((error as Error).message).toBe('sandboxes[0].fetch.allow[0].inject[0].from.env: environment variable PORTHOLE_TEST_MISSING is not set');
    });

    it('reads a secret from a file', async () => {
      const api = await upstream({ '/v1/x': (_req, res) => res.end('ok') });
      const { tempDir } = await import('../support/temp-dir.js');
      const dir = await tempDir('secret');
      cleanups.push(dir.remove);
      await writeFile(join(dir.path, 'token'), `${SECRET}\n`, { mode: 0o600 });
      const h = await host({
        allow: [{ scheme: 'http', host: '127.0.0.1', port: api.port, inject: [{ header: 'x-token', from: { file: join(dir.path, 'token') } }] }],
      });
      await h.client().fetch(`${api.origin}/v1/x`);
      expect(api.requests[0]?.headers['x-token']).toBe(SECRET);
    });
  });

  describe('response bounds', () => {
    it("refuses a request body past the host's limit with that limit, even past gRPC's message size", async () => {
      const api = await upstream({ '/in': (_req, res) => res.end('ok') });
      const h = await host({ allow: [{ scheme: 'http', host: '127.0.0.1', port: api.port, methods: ['POST'] }] });
      const error = await h.client().fetch(`${api.origin}/in`, { method: 'POST', body: Buffer.alloc(3 * 1024 * 1024) }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'TOO_LARGE', field: 'body', limit: 1024 * 1024, message: 'request body is 3145728 bytes, the limit is 1048576' });
      expect(api.requests).toHaveLength(0);
    });

    it('decodes a gzip body for the guest and drops the encoding headers', async () => {
      const text = 'hello '.repeat(1000);
      const api = await upstream({ '/z': (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(text)) });
      const h = await host({ allow: [{ scheme: 'http', host: '127.0.0.1', port: api.port }] });
      const response = await h.client().fetch(`${api.origin}/z`);
      expect(response.headers.get('content-encoding')).toBeNull();
      expect(await response.text()).toBe(text);
      expect(api.requests[0]?.headers['accept-encoding']).toBe('gzip, deflate, br');
    });

    it('stops a decompression bomb at the size limit', async () => {
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
      const api = await upstream({ '/bomb': (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(bomb) });
      const h = await host({ allow: [{ scheme: 'http', host: '127.0.0.1', port: api.port }], maxResponseBytes: '4MiB', maxCompressionRatio: 10_000 });
      const response = await h.client().fetch(`${api.origin}/bomb`);
      const error = await response.text().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'TOO_LARGE', limit: 4 * 1024 * 1024, message: 'the response body passed the 4194304-byte limit' });
    });

    it('stops a compressed body that expands past the ratio', async () => {
      const packed = gzipSync(Buffer.alloc(4 * 1024 * 1024));
      const api = await upstream({ '/ratio': (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(packed) });
      const h = await host({ allow: [{ scheme: 'http', host: '127.0.0.1', port: api.port }], maxCompressionRatio: 50 });
      const error = await (await h.client().fetch(`${api.origin}/ratio`)).text().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'TOO_LARGE', limit: 50, message: 'the compressed response expanded more than 50 times' });
    });

    it('reports a corrupt compressed body as an upstream error', async () => {
      const api = await upstream({ '/bad': (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end('not gzip at all') });
      const h = await host({ allow: [{ scheme: 'http', host: '127.0.0.1', port: api.port }] });
      const error = await (await h.client().fetch(`${api.origin}/bad`)).text().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UPSTREAM_ERROR', message: "the upstream's compressed body is corrupt (Z_DATA_ERROR)" });
    });

    it('refuses response headers over 16 KiB', async () => {
      const api = await upstream({ '/fat': (_req, res) => res.writeHead(200, { 'x-fat': 'f'.repeat(20_000) }).end('x') });
      const h = await host({ allow: [{ scheme: 'http', host: '127.0.0.1', port: api.port }] });
      const error = await h.client().fetch(`${api.origin}/fat`).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'TOO_LARGE', message: `http://127.0.0.1:${api.port} sent response headers over the host's limit` });
    });

    it('cuts off an upstream that goes quiet mid-body', async () => {
      const api = await upstream({ '/stall': (_req, res) => res.writeHead(200).write('first part') });
      const h = await host({ allow: [{ scheme: 'http', host: '127.0.0.1', port: api.port }], idleTimeoutMs: 300, timeoutMs: 20_000 });
      const response = await h.client().fetch(`${api.origin}/stall`);
      const error = await response.text().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'TIMEOUT' });
    });
  });

  describe('upstream connections', () => {
    it("caps a sandbox's open upstream sockets across origins", async () => {
      const held: (() => void)[] = [];
      const hold = (_req: unknown, res: { writeHead(s: number): { write(t: string): void }; end(): void }) => {
        res.writeHead(200).write('open');
        held.push(() => res.end());
      };
      const servers = await Promise.all([1, 2, 3].map(() => upstream({ '/hold': hold as never })));
      const h = await host({
        allow: servers.map((s) => ({ scheme: 'http', host: '127.0.0.1', port: s.port })),
        maxConnections: 2,
      });
      const client = h.client();
      const open = [await client.fetch(`${servers[0]!.origin}/hold`), await client.fetch(`${servers[1]!.origin}/hold`)];
      const third = await client.fetch(`${servers[2]!.origin}/hold`).catch((e: unknown) => e);
      expect(third).toMatchObject({
        code: 'RATE_LIMITED',
        limit: 2,
        retryAfterMs: 250,
        message: '2 upstream connections are open for sandbox alpha, the limit is 2',
      });
      expect(servers.map((s) => s.openConnections)).toEqual([1, 1, 0]);
      for (const release of held) release();
      await Promise.all(open.map((r) => r.text()));
    });

    it('caps upstream sockets across sandboxes with the host limit', async () => {
      const held: (() => void)[] = [];
      const api = await upstream({ '/hold': ((_req: unknown, res: { writeHead(s: number): { write(t: string): void }; end(): void }) => {
        res.writeHead(200).write('open');
        held.push(() => res.end());
      }) as never });
      const fetch = { allow: [{ scheme: 'http', host: '127.0.0.1', port: api.port }], maxConnections: 8 };
      const h = await TestHost.start({ sandboxes: [sandboxEntry('alpha', { fetch }), sandboxEntry('beta', { fetch })], limits: { maxUpstreamConnections: 2 } });
      cleanups.push(() => h.stop());
      const open = [await h.client('alpha').fetch(`${api.origin}/hold`), await h.client('alpha').fetch(`${api.origin}/hold`)];
      const error = await h.client('beta').fetch(`${api.origin}/hold`).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'RATE_LIMITED', message: '2 upstream connections are open for this host, the limit is 2' });
      for (const release of held) release();
      await Promise.all(open.map((r) => r.text()));
    });

    it('connects to the address it checked, even when the name later resolves elsewhere', async () => {
      // A rebinding resolver: an allowed answer first, loopback after.
      const allowed = await upstream({ '/v1/data': (_req, res) => res.end('from the checked address') }, '127.0.0.2');
      const forbidden = await upstream({ '/v1/data': (_req, res) => res.end('REBOUND') });
      let lookups = 0;
      const h = await host(
        { allow: [{ scheme: 'http', host: 'api.example.test', port: allowed.port, allowAddresses: ['127.0.0.2/32'] }] },
        {
          resolver: async () => (lookups++ === 0 ? [{ address: '127.0.0.2', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]),
        },
      );
      const client = h.client();
      expect(await (await client.fetch(`http://api.example.test:${allowed.port}/v1/data`)).text()).toBe('from the checked address');
      // The pooled connection stays pinned to the address that was checked.
      expect(await (await client.fetch(`http://api.example.test:${allowed.port}/v1/data`)).text()).toBe('from the checked address');
      expect(lookups).toBe(1);
      expect(forbidden.requests).toHaveLength(0);
      expect(h.dialled).toEqual(['127.0.0.2']);
    });
  });
});
