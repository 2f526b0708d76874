import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';

import { isIpLiteral } from './ip-literal.js';

describe('isIpLiteral', () => {
  it.each([
    '127.0.0.1', '0x7f.0.0.1', '0X7F.0.0.1', '0177.0.0.1', '127.1', '127.0.1', '2130706433', '0x7f000001',
    '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'fe80::1%eth0', 'FE80::A',
    'localhost', 'api.example.test', 'abc', 'face.b00c', 'ff.ff.ff.ff', '0xfg.0.0.1', '1.2.3.4.5', '256.0.0.1',
    'xn--bcher-kva.example', '', '.', '127.0.0.1.', 'a:b', '::g',
  ])('decides %j as ipaddr.isValid does', (host) => {
    expect(isIpLiteral(host)).toBe(ipaddr.isValid(host));
  });
});
