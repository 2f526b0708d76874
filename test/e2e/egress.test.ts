import type { LookupAddress } from 'node:dns';

import type { Resolver } from '@porthole/host';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sandboxEntry, TestHost } from '../support/host-fixture.js';
import { refusal } from '../support/refusal.js';
import { Upstream } from '../support/upstream.js';

/**
 * Address judging, end to end. Names resolve through the fixture's resolver
 * (no DNS query is made), and the fixture's egress guard fails the run if
 * the host ever tries to dial anything but loopback: every refusal below is
 * proven without a packet leaving.
 */

const v4 = (address: string): LookupAddress => ({ address, family: 4 });
const v6 = (address: string): LookupAddress => ({ address, family: 6 });

// Each refused name, what it resolves to, and how the judge describes it.
const REFUSED: [name: string, answer: LookupAddress, words: string][] = [
  ['metadata.example.test', v4('169.254.169.254'), 'link-local (cloud metadata)'],
  ['ten.example.test', v4('10.0.0.5'), 'private'],
  ['home.example.test', v4('192.168.1.1'), 'private'],
  ['cgnat.example.test', v4('100.64.0.1'), 'carrier-grade NAT'],
  ['loopback6.example.test', v6('::1'), 'loopback'],
  ['ula.example.test', v6('fd00::1'), 'unique-local (private)'],
  ['linklocal6.example.test', v6('fe80::1'), 'link-local (cloud metadata)'],
  ['mapped.example.test', v6('::ffff:127.0.0.1'), 'loopback'],
  ['nat64.example.test', v6('64:ff9b::7f00:1'), 'NAT64'],
  ['compat.example.test', v6('::7f00:1'), 'IPv4-compatible'],
  ['zero.example.test', v4('0.0.0.0'), 'unspecified'],
  ['unspecified6.example.test', v6('::'), 'unspecified'],
  ['multicast.example.test', v4('224.0.0.1'), 'multicast'],
  ['loopback.example.test', v4('127.0.0.1'), 'loopback'],
];


function denied(message: string, field = 'url'): Record<string, unknown> {
  return { code: 'POLICY_DENIED', field, limit: undefined, message };
}

describe('egress', () => {
  let host: TestHost;
  let upstream: Upstream;
  const asked: string[] = [];
  const answers = new Map<string, LookupAddress[]>([
    ...REFUSED.map(([name, answer]): [string, LookupAddress[]] => [name, [answer]]),
    ['api.example.test', [v4('127.0.0.1')]],
    ['mixed.example.test', [v4('10.0.0.5'), v4('169.254.169.254'), v4('127.0.0.1')]],
    ['private.example.test', [v4('10.0.0.5'), v4('192.168.1.1')]],
    ['empty.example.test', []],
  ]);
  const resolver: Resolver = async (hostname) => {
    asked.push(hostname);
    const answer = answers.get(hostname);
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answer;
  };

  beforeAll(async () => {
    upstream = await new Upstream({
      '/': (req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`reached via ${req.headers.host}`);
      },
      '/to-metadata': (_req, res) => {
        res.writeHead(302, { location: `http://metadata.example.test:${upstream.port}/latest/meta-data/` }).end();
      },
    }).listen();
    const port = upstream.port;
    host = await TestHost.start({
      resolver,
      sandboxes: [
        // Names under a wildcard, no address range named: only public
        // addresses would pass, and the test resolver gives none.
        sandboxEntry('names', { fetch: { allow: [{ scheme: 'http', host: '*.example.test', port }] } }),
        // Names that may reach loopback because the rule says so.
        sandboxEntry('loopback', {
          fetch: { allow: [{ scheme: 'http', host: '*.example.test', port, allowAddresses: ['127.0.0.0/8'] }] },
        }),
        // A single hostname rule, loopback named for it.
        sandboxEntry('named', {
          fetch: { allow: [{ scheme: 'http', host: 'api.example.test', port, allowAddresses: ['127.0.0.0/8'] }] },
        }),
        // A rule naming 127.0.0.1 itself, next to the wildcard for redirects.
        sandboxEntry('literal', {
          fetch: {
            allow: [
              { scheme: 'http', host: '127.0.0.1', port },
              { scheme: 'http', host: '*.example.test', port },
            ],
          },
        }),
      ],
    });
  });

  afterAll(async () => {
    // stop() fails the file if anything but loopback was ever dialled.
    await host?.stop();
    await upstream?.close();
  });

  /** Runs `fetch` and returns the addresses the host was about to dial for it. */
  async function dialledDuring(fetch: () => Promise<unknown>): Promise<string[]> {
    const before = host.dialled.length;
    await fetch();
    return host.dialled.slice(before);
  }

  describe('resolved addresses', () => {
    it.each(REFUSED)('refuses %s, which resolves to %o', async (name, answer, words) => {
      const requests = upstream.requests.length;
      const url = `http://${name}:${upstream.port}/`;
      const dialled = await dialledDuring(async () => {
        expect(await refusal(host.client('names').fetch(url))).toStrictEqual(denied(
          `refused to connect: ${name} resolves to no allowed address: ${answer.address} is in the ${words} range, which policy does not name`,
        ));
      });
      expect(dialled).toStrictEqual([]);
      expect(asked).toContain(name);
      expect(upstream.requests.length).toBe(requests);
    });

    it('refuses a name that resolves to no address at all', async () => {
      expect(await refusal(host.client('names').fetch(`http://empty.example.test:${upstream.port}/`))).toStrictEqual(denied(
        'refused to connect: empty.example.test resolves to no allowed address: it has no address',
      ));
    });

    it('reports a name that does not resolve as UPSTREAM_ERROR', async () => {
      const error = await refusal(host.client('names').fetch(`http://nowhere.example.test:${upstream.port}/`));
      expect(error).toStrictEqual({
        code: 'UPSTREAM_ERROR',
        field: undefined,
        limit: undefined,
        message: 'nowhere.example.test could not be resolved (ENOTFOUND)',
      });
    });

    it('reaches loopback through a name when the rule names 127.0.0.0/8', async () => {
      const dialled = await dialledDuring(async () => {
        const response = await host.client('loopback').fetch(`http://api.example.test:${upstream.port}/`);
        expect({ status: response.status, body: await response.text() }).toStrictEqual({
          status: 200, body: `reached via api.example.test:${upstream.port}`,
        });
      });
      expect(dialled).toStrictEqual(['127.0.0.1']);
    });

    it('connects only to the allowed address of a mixed answer', async () => {
      const dialled = await dialledDuring(async () => {
        const response = await host.client('loopback').fetch(`http://mixed.example.test:${upstream.port}/`);
        expect(await response.text()).toBe(`reached via mixed.example.test:${upstream.port}`);
      });
      expect(dialled).toStrictEqual(['127.0.0.1']);
    });

    it('still refuses private addresses the rule does not name', async () => {
      const dialled = await dialledDuring(async () => {
        expect(await refusal(host.client('loopback').fetch(`http://private.example.test:${upstream.port}/`))).toStrictEqual(denied(
          'refused to connect: private.example.test resolves to no allowed address: 10.0.0.5 is in the private range, which policy does not name',
        ));
      });
      expect(dialled).toStrictEqual([]);
    });

    it('judges the addresses of a redirect hop too, naming the redirect', async () => {
      const dialled = await dialledDuring(async () => {
        expect(await refusal(host.client('literal').fetch(`${upstream.origin}/to-metadata`))).toStrictEqual(denied(
          'refused to connect: metadata.example.test resolves to no allowed address: 169.254.169.254 is in the link-local (cloud metadata) range, which policy does not name',
          'redirect',
        ));
      });
      // The first hop went to the literal 127.0.0.1, the second nowhere.
      expect(dialled).toStrictEqual(['127.0.0.1']);
    });
  });

  describe('IP spellings in the URL', () => {
    const spellings = (port: number): [string, string][] => [
      [`http://2130706433:${port}/`, `http://127.0.0.1:${port}/`],
      [`http://0x7f.0.0.1:${port}/`, `http://127.0.0.1:${port}/`],
      [`http://0X7F.0.0.1:${port}/`, `http://127.0.0.1:${port}/`],
      [`http://0177.0.0.1:${port}/`, `http://127.0.0.1:${port}/`],
      [`http://127.1:${port}/`, `http://127.0.0.1:${port}/`],
      [`http://127.0.0.1.:${port}/`, `http://127.0.0.1:${port}/`],
      [`http://[::ffff:7f00:1]:${port}/`, `http://[::ffff:7f00:1]:${port}/`],
      [`http://[::ffff:127.0.0.1]:${port}/`, `http://[::ffff:7f00:1]:${port}/`],
      [`http://[::1]:${port}/`, `http://[::1]:${port}/`],
      [`http://LOCALHOST:${port}/`, `http://localhost:${port}/`],
      [`http:\\\\127.0.0.1:${port}\\admin`, `http://127.0.0.1:${port}/admin`],
      [`http://127.0.0.1:${port}\\api.example.test`, `http://127.0.0.1:${port}/api.example.test`],
    ];

    it('refuses every spelling of an address under a policy whose only rule is a hostname', async () => {
      const requests = upstream.requests.length;
      const seen: Record<string, unknown>[] = [];
      const dialled = await dialledDuring(async () => {
        for (const [url] of spellings(upstream.port)) seen.push(await refusal(host.client('named').fetch(url)));
      });
      expect(seen).toStrictEqual(spellings(upstream.port).map(([, shown]) => denied(`no fetch rule allows GET ${shown}`)));
      expect(dialled).toStrictEqual([]);
      expect(upstream.requests.length).toBe(requests);
    });

    it('lowercases an uppercase hostname and allows it', async () => {
      const dialled = await dialledDuring(async () => {
        const response = await host.client('named').fetch(`HTTP://API.EXAMPLE.TEST:${upstream.port}/`);
        expect({ url: response.url, body: await response.text() }).toStrictEqual({
          url: `http://api.example.test:${upstream.port}/`, body: `reached via api.example.test:${upstream.port}`,
        });
      });
      expect(dialled).toStrictEqual(['127.0.0.1']);
    });

    it('treats decimal, hex, octal and short spellings as 127.0.0.1 under a rule naming it', async () => {
      const port = upstream.port;
      for (const url of [
        `http://2130706433:${port}/`,
        `http://0x7f.0.0.1:${port}/`,
        `http://0177.0.0.1:${port}/`,
        `http://127.1:${port}/`,
        `http://127.0.0.1.:${port}/`,
      ]) {
        const dialled = await dialledDuring(async () => {
          const response = await host.client('literal').fetch(url);
          // WHATWG parsing made them one address: the host dials it, and
          // the upstream sees the normalised name in Host.
          expect({ url: response.url, body: await response.text() }).toStrictEqual({
            url: `http://127.0.0.1:${port}/`, body: `reached via 127.0.0.1:${port}`,
          });
        });
        expect(dialled).toStrictEqual(['127.0.0.1']);
      }
    });

    it('refuses other addresses and IPv6 spellings under a rule naming 127.0.0.1', async () => {
      const port = upstream.port;
      const dialled = await dialledDuring(async () => {
        for (const [url, shown] of [
          [`http://[::ffff:7f00:1]:${port}/`, `http://[::ffff:7f00:1]:${port}/`],
          [`http://[::1]:${port}/`, `http://[::1]:${port}/`],
          [`http://127.0.0.2:${port}/`, `http://127.0.0.2:${port}/`],
          [`http://0x7f000002:${port}/`, `http://127.0.0.2:${port}/`],
          [`http://0xa9fea9fe:${port}/`, `http://169.254.169.254:${port}/`],
          [`http://127.0.0.1:${port + 1 > 65535 ? port - 1 : port + 1}/`, `http://127.0.0.1:${port + 1 > 65535 ? port - 1 : port + 1}/`],
        ] as const) {
          expect(await refusal(host.client('literal').fetch(url))).toStrictEqual(denied(`no fetch rule allows GET ${shown}`));
        }
      });
      expect(dialled).toStrictEqual([]);
    });
  });
});
