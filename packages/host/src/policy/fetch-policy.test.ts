import { fetchPolicySchema, MAX_URL_LENGTH, PortholeError } from '@porthole/shared';
import { describe, expect, it } from 'vitest';

import { FetchAllowList } from './fetch-policy.js';

/** An allow list from rules written as a config file holds them. */
function allowList(...allow: Record<string, unknown>[]): FetchAllowList {
  return new FetchAllowList(fetchPolicySchema.parse({ allow }));
}

/** The refusal `run` throws, as the guest would see it. */
function refusal(run: () => unknown): Record<string, unknown> {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PortholeError);
    const { code, field, limit, message } = error as PortholeError;
    return { code, field, limit, message };
  }
  throw new Error('expected a refusal, the call succeeded');
}

function denied(message: string, field = 'url'): Record<string, unknown> {
  return { code: 'POLICY_DENIED', field, limit: undefined, message };
}

describe('FetchAllowList hosts', () => {
  const wildcard = allowList({ scheme: 'https', host: '*.example.test' });

  it.each([
    'https://api.example.test/',
    'https://a.b.example.test/x',
    'https://API.Example.TEST/',
    'https://api.example.test./',
  ])('lets *.example.test match the subdomain in %s', (url) => {
    expect(wildcard.check(url, 'GET').rule.index).toBe(0);
  });

  it.each([
    ['https://example.test/', 'https://example.test/'],
    ['https://evil-example.test/', 'https://evil-example.test/'],
    ['https://api.example.test.evil.test/', 'https://api.example.test.evil.test/'],
    ['https://example.test.evil.test/', 'https://example.test.evil.test/'],
    ['https://apiexample.test/', 'https://apiexample.test/'],
  ])('does not let *.example.test match %s', (url, shown) => {
    expect(refusal(() => wildcard.check(url, 'GET'))).toStrictEqual(denied(`no fetch rule allows GET ${shown}`));
  });

  it('matches an exact host only, whatever its case', () => {
    const exact = allowList({ scheme: 'https', host: 'api.example.test' });
    expect(exact.check('https://API.example.test/', 'GET').host).toBe('api.example.test');
    expect(refusal(() => exact.check('https://www.api.example.test/', 'GET'))).toStrictEqual(
      denied('no fetch rule allows GET https://www.api.example.test/'),
    );
    expect(refusal(() => exact.check('https://example.test/', 'GET'))).toStrictEqual(
      denied('no fetch rule allows GET https://example.test/'),
    );
  });

  it('lets a literal address rule match every WHATWG spelling of that address', () => {
    const literal = allowList({ scheme: 'http', host: '127.0.0.1', port: 8080 });
    for (const url of [
      'http://127.0.0.1:8080/',
      'http://2130706433:8080/',
      'http://0x7f.0.0.1:8080/',
      'http://0177.0.0.1:8080/',
      'http://127.1:8080/',
      'http://127.0.0.1.:8080/',
    ]) {
      const target = literal.check(url, 'GET');
      expect({ url: target.url.href, host: target.host, port: target.port, literal: target.literal }).toStrictEqual({
        url: 'http://127.0.0.1:8080/', host: '127.0.0.1', port: 8080, literal: true,
      });
    }
  });

  it('keeps an IPv4 literal rule from matching IPv6 spellings or a name', () => {
    const literal = allowList({ scheme: 'http', host: '127.0.0.1', port: 8080 });
    expect(refusal(() => literal.check('http://[::ffff:127.0.0.1]:8080/', 'GET'))).toStrictEqual(
      denied('no fetch rule allows GET http://[::ffff:7f00:1]:8080/'),
    );
    expect(refusal(() => literal.check('http://[::1]:8080/', 'GET'))).toStrictEqual(
      denied('no fetch rule allows GET http://[::1]:8080/'),
    );
    expect(refusal(() => literal.check('http://localhost:8080/', 'GET'))).toStrictEqual(
      denied('no fetch rule allows GET http://localhost:8080/'),
    );
  });

  it('matches an IPv6 literal rule written with or without brackets', () => {
    for (const host of ['::1', '[::1]']) {
      const literal = allowList({ scheme: 'http', host, port: 8080 });
      const target = literal.check('http://[0:0:0:0:0:0:0:1]:8080/', 'GET');
      expect({ host: target.host, literal: target.literal }).toStrictEqual({ host: '::1', literal: true });
    }
  });

  it('keeps a hostname rule from matching any IP spelling', () => {
    const named = allowList({ scheme: 'http', host: 'api.example.test', allowAddresses: ['127.0.0.0/8'] });
    expect(refusal(() => named.check('http://2130706433/', 'GET'))).toStrictEqual(
      denied('no fetch rule allows GET http://127.0.0.1/'),
    );
    expect(named.check('http://api.example.test/', 'GET').literal).toBe(false);
  });
});

describe('FetchAllowList address verdicts', () => {
  it.each([
    ['127.0.0.1', ['127.0.0.1', '127.0.0.2', '10.0.0.1', '::ffff:7f00:1', '169.254.169.254', '93.184.216.34']],
    ['::ffff:127.0.0.1', ['::ffff:7f00:1', '127.0.0.1', '::1', '10.0.0.1']],
    ['::1', ['::1', '0:0:0:0:0:0:0:1', '127.0.0.1', 'fe80::1']],
  ])("gives, for a literal rule %s, the judge's own verdict on every address", (host, addresses) => {
    const list = allowList({ scheme: 'http', host, port: 8080, allowAddresses: ['10.0.0.0/8'] });
    const { rule } = list.check(`http://${host.includes(':') ? `[${host}]` : host}:8080/`, 'GET');
    for (const address of addresses) expect(rule.problem(address)).toBe(rule.judge.problem(address));
    // Any other address of a private range is still refused.
    expect(rule.problem('192.168.1.1')).toBe('192.168.1.1 is in the private range, which policy does not name');
  });
});

describe('FetchAllowList redaction', () => {
  it('hides the secrets it loaded, and nothing before they are loaded', async () => {
    process.env.PORTHOLE_POLICY_TEST_SECRET = 'policy-test-4c1d';
    try {
      const list = allowList({
        scheme: 'https', host: 'api.example.test',
        inject: [{ header: 'authorization', from: { env: 'PORTHOLE_POLICY_TEST_SECRET' }, prefix: 'Token ' }],
      });
      expect(list.redactor.active).toBe(false);
      await list.loadSecrets('sandboxes[0].fetch');
      expect(list.redactor.text('a Token policy-test-4c1d b policy-test-4c1d')).toBe('a [redacted] b [redacted]');
    } finally {
      delete process.env.PORTHOLE_POLICY_TEST_SECRET;
    }
  });
});

describe('FetchAllowList ports and schemes', () => {
  it('defaults the port by scheme', () => {
    const https = allowList({ scheme: 'https', host: 'api.example.test' });
    expect(https.check('https://api.example.test/', 'GET').port).toBe(443);
    expect(https.check('https://api.example.test:443/', 'GET').port).toBe(443);
    expect(refusal(() => https.check('https://api.example.test:8443/', 'GET'))).toStrictEqual(
      denied('no fetch rule allows GET https://api.example.test:8443/'),
    );
    expect(refusal(() => https.check('http://api.example.test/', 'GET'))).toStrictEqual(
      denied('no fetch rule allows GET http://api.example.test/'),
    );
    expect(refusal(() => https.check('http://api.example.test:443/', 'GET'))).toStrictEqual(
      denied('no fetch rule allows GET http://api.example.test:443/'),
    );

    const http = allowList({ scheme: 'http', host: 'api.example.test' });
    expect(http.check('http://api.example.test:80/', 'GET').port).toBe(80);
    expect(refusal(() => http.check('http://api.example.test:8080/', 'GET'))).toStrictEqual(
      denied('no fetch rule allows GET http://api.example.test:8080/'),
    );
  });

  it('matches an explicit port only', () => {
    const list = allowList({ scheme: 'http', host: 'api.example.test', port: 8080 });
    expect(list.check('http://api.example.test:8080/', 'GET').port).toBe(8080);
    expect(refusal(() => list.check('http://api.example.test/', 'GET'))).toStrictEqual(
      denied('no fetch rule allows GET http://api.example.test/'),
    );
  });
});

describe('FetchAllowList paths', () => {
  const list = allowList({ scheme: 'https', host: 'api.example.test', pathPrefix: '/v1/' });

  it('allows paths under the prefix', () => {
    expect(list.check('https://api.example.test/v1/users?id=1', 'GET').url.pathname).toBe('/v1/users');
    expect(list.check('https://api.example.test/v1/a/../b', 'GET').url.pathname).toBe('/v1/b');
  });

  it.each([
    ['https://api.example.test/v1/../admin', 'https://api.example.test/admin'],
    ['https://api.example.test/v1/%2e%2e/admin', 'https://api.example.test/admin'],
    ['https://api.example.test/v1/%2E%2e/admin', 'https://api.example.test/admin'],
    ['https://api.example.test/v1/.%2e/admin', 'https://api.example.test/admin'],
    ['https://api.example.test/v1\\..\\admin', 'https://api.example.test/admin'],
    ['https://api.example.test/v2/', 'https://api.example.test/v2/'],
    ['https://api.example.test/v1', 'https://api.example.test/v1'],
    ['https://api.example.test/V1/users', 'https://api.example.test/V1/users'],
  ])('judges %s after WHATWG normalisation', (url, shown) => {
    expect(refusal(() => list.check(url, 'GET'))).toStrictEqual(denied(`no fetch rule allows GET ${shown}`));
  });

  it('leaves the query and fragment out of the refusal', () => {
    expect(refusal(() => list.check('https://api.example.test/admin?token=secret#x', 'GET'))).toStrictEqual(
      denied('no fetch rule allows GET https://api.example.test/admin'),
    );
  });
});

describe('FetchAllowList methods', () => {
  it('allows GET and HEAD when the rule names no methods', () => {
    const list = allowList({ scheme: 'https', host: 'api.example.test' });
    expect(list.check('https://api.example.test/', 'GET').rule.index).toBe(0);
    expect(list.check('https://api.example.test/', 'HEAD').rule.index).toBe(0);
    expect(refusal(() => list.check('https://api.example.test/', 'POST'))).toStrictEqual(
      denied('no fetch rule allows POST https://api.example.test/'),
    );
  });

  it('allows only the methods a rule names, and picks the first rule that matches', () => {
    const list = allowList(
      { scheme: 'https', host: 'api.example.test', methods: ['POST'], pathPrefix: '/v1/' },
      { scheme: 'https', host: '*.example.test', methods: ['GET', 'DELETE'] },
    );
    expect(list.check('https://api.example.test/v1/x', 'POST').rule.index).toBe(0);
    expect(list.check('https://api.example.test/v1/x', 'GET').rule.index).toBe(1);
    expect(list.check('https://api.example.test/v1/x', 'DELETE').rule.index).toBe(1);
    expect(refusal(() => list.check('https://api.example.test/v1/x', 'PUT'))).toStrictEqual(
      denied('no fetch rule allows PUT https://api.example.test/v1/x'),
    );
    expect(refusal(() => list.check('https://api.example.test/v2/x', 'POST'))).toStrictEqual(
      denied('no fetch rule allows POST https://api.example.test/v2/x'),
    );
  });

  it('refuses every URL with an empty allow list', () => {
    expect(refusal(() => allowList().check('https://api.example.test/', 'GET'))).toStrictEqual(
      denied('no fetch rule allows GET https://api.example.test/'),
    );
  });
});

describe('FetchAllowList URL errors', () => {
  const list = allowList({ scheme: 'http', host: '127.0.0.1' });
  const invalid = (message: string, field = 'url', limit?: number): Record<string, unknown> =>
    ({ code: 'INVALID_ARGUMENT', field, limit, message });

  it('refuses a URL that is not absolute', () => {
    expect(refusal(() => list.check('/relative', 'GET'))).toStrictEqual(invalid('url "/relative" is not an absolute URL'));
    expect(refusal(() => list.check('127.0.0.1/x', 'GET'))).toStrictEqual(invalid('url "127.0.0.1/x" is not an absolute URL'));
    expect(refusal(() => list.check('', 'GET'))).toStrictEqual(invalid('url "" is not an absolute URL'));
  });

  it('refuses schemes other than http and https', () => {
    expect(refusal(() => list.check('ftp://127.0.0.1/file', 'GET'))).toStrictEqual(invalid('url scheme ftp: is not http: or https:'));
    expect(refusal(() => list.check('file:///etc/passwd', 'GET'))).toStrictEqual(invalid('url scheme file: is not http: or https:'));
    expect(refusal(() => list.check('ws://127.0.0.1/', 'GET'))).toStrictEqual(invalid('url scheme ws: is not http: or https:'));
  });

  it('refuses user info in the URL', () => {
    expect(refusal(() => list.check('http://user:pw@127.0.0.1/', 'GET'))).toStrictEqual(
      invalid('url carries user info; credentials in URLs are refused'),
    );
    expect(refusal(() => list.check('http://user@127.0.0.1/', 'GET'))).toStrictEqual(
      invalid('url carries user info; credentials in URLs are refused'),
    );
  });

  it('refuses a URL over the length limit', () => {
    const url = `http://127.0.0.1/${'a'.repeat(MAX_URL_LENGTH)}`;
    expect(refusal(() => list.check(url, 'GET'))).toStrictEqual(
      invalid(`url is ${url.length} characters, at most ${MAX_URL_LENGTH}`, 'url', MAX_URL_LENGTH),
    );
  });

  it('names the field it is given, for redirect hops', () => {
    expect(refusal(() => list.check('ftp://127.0.0.1/', 'GET', 'redirect'))).toStrictEqual(
      invalid('redirect scheme ftp: is not http: or https:', 'redirect'),
    );
    expect(refusal(() => list.check('http://10.0.0.1/', 'GET', 'redirect'))).toStrictEqual(
      denied('no fetch rule allows GET http://10.0.0.1/', 'redirect'),
    );
  });
});
