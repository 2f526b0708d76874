import { describe, expect, it } from 'vitest';

import { AddressJudge } from './address-judge.js';

describe('AddressJudge', () => {
  const judge = new AddressJudge([]);

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
  ])('allows the public unicast address %s', (address) => {
    expect(judge.problem(address)).toBeUndefined();
  });

  it.each([
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['10.0.0.5', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00::1', 'unique-local (private)'],
    ['fc00::1', 'unique-local (private)'],
    ['fe80::1', 'link-local (cloud metadata)'],
    ['fec0::1', 'deprecatedSiteLocal'],
    ['ff02::1', 'multicast'],
    ['64:ff9b::7f00:1', 'NAT64'],
    ['64:ff9b::a9fe:a9fe', 'NAT64'],
    ['64:ff9b:1::1', 'NAT64'],
    ['::ffff:0:7f00:1', 'IPv4-translated'],
    ['2002:7f00:1::', '6to4'],
    ['2001::1', 'teredo'],
    ['2001:db8::1', 'reserved'],
    ['100::1', 'discard'],
    // IPv4-compatible addresses (::a.b.c.d, deprecated) embed an IPv4
    // address; a stack that still tunnels them reaches that IPv4 host.
    ['::7f00:1', 'IPv4-compatible'],
    ['::a9fe:a9fe', 'IPv4-compatible'],
    ['::a00:5', 'IPv4-compatible'],
    // Outside 2000::/3 nothing is assigned as global unicast.
    ['4000::1', 'reserved'],
    ['e000::1', 'reserved'],
  ])('refuses %s as %s when policy does not name it', (address, words) => {
    expect(judge.problem(address)).toBe(`${address} is in the ${words} range, which policy does not name`);
  });

  it('judges an IPv4-mapped IPv6 address as the IPv4 address it reaches', () => {
    expect(judge.problem('::ffff:127.0.0.1')).toBe('::ffff:127.0.0.1 is in the loopback range, which policy does not name');
    expect(judge.problem('::ffff:a9fe:a9fe')).toBe('::ffff:a9fe:a9fe is in the link-local (cloud metadata) range, which policy does not name');
    expect(judge.problem('::ffff:10.0.0.5')).toBe('::ffff:10.0.0.5 is in the private range, which policy does not name');
    expect(judge.problem('::ffff:8.8.8.8')).toBeUndefined();
  });

  it('refuses text that is not an IP address', () => {
    expect(judge.problem('localhost')).toBe('localhost is not an IP address');
    expect(judge.problem('')).toBe(' is not an IP address');
  });

  it('judges a link-local address with a zone id as link-local', () => {
    expect(judge.problem('fe80::1%eth0')).toBe('fe80::1%eth0 is in the link-local (cloud metadata) range, which policy does not name');
  });

  it('allows non-public addresses inside a named range and nothing next to it', () => {
    const named = new AddressJudge(['127.0.0.0/8', '10.1.0.0/16', 'fd00::/8']);
    expect(named.problem('127.0.0.1')).toBeUndefined();
    expect(named.problem('127.9.9.9')).toBeUndefined();
    expect(named.problem('10.1.200.3')).toBeUndefined();
    expect(named.problem('fd00::1')).toBeUndefined();
    expect(named.problem('10.2.0.1')).toBe('10.2.0.1 is in the private range, which policy does not name');
    expect(named.problem('fdff::1')).toBeUndefined();
    expect(named.problem('fc00::1')).toBe('fc00::1 is in the unique-local (private) range, which policy does not name');
    expect(named.problem('169.254.169.254')).toBe('169.254.169.254 is in the link-local (cloud metadata) range, which policy does not name');
    expect(named.problem('::1')).toBe('::1 is in the loopback range, which policy does not name');
  });

  it('lets a named IPv4 range cover IPv4-mapped addresses, and no other IPv6 spelling', () => {
    const named = new AddressJudge(['127.0.0.0/8']);
    expect(named.problem('::ffff:127.0.0.1')).toBeUndefined();
    expect(named.problem('64:ff9b::7f00:1')).toBe('64:ff9b::7f00:1 is in the NAT64 range, which policy does not name');
    expect(named.problem('::7f00:1')).toBe('::7f00:1 is in the IPv4-compatible range, which policy does not name');
    expect(named.problem('2002:7f00:1::')).toBe('2002:7f00:1:: is in the 6to4 range, which policy does not name');
  });

  it('reads a range written as IPv4-mapped IPv6 as the IPv4 range', () => {
    const named = new AddressJudge(['::ffff:10.0.0.0/104']);
    expect(named.problem('10.200.0.1')).toBeUndefined();
    expect(named.problem('11.0.0.1')).toBeUndefined();
    expect(named.problem('192.168.0.1')).toBe('192.168.0.1 is in the private range, which policy does not name');
  });

  it('names the literal host of a rule, that address only', () => {
    const v4 = new AddressJudge([], '127.0.0.1');
    expect(v4.problem('127.0.0.1')).toBeUndefined();
    expect(v4.problem('::ffff:127.0.0.1')).toBeUndefined();
    expect(v4.problem('127.0.0.2')).toBe('127.0.0.2 is in the loopback range, which policy does not name');

    const v6 = new AddressJudge([], '::1');
    expect(v6.problem('::1')).toBeUndefined();
    expect(v6.problem('0:0:0:0:0:0:0:1')).toBeUndefined();
    expect(v6.problem('127.0.0.1')).toBe('127.0.0.1 is in the loopback range, which policy does not name');

    const name = new AddressJudge([], 'api.example.test');
    expect(name.problem('127.0.0.1')).toBe('127.0.0.1 is in the loopback range, which policy does not name');
  });

  it('refuses to build with a range that is not a CIDR', () => {
    expect(() => new AddressJudge(['10.0.0.0'])).toThrow();
    expect(() => new AddressJudge(['10.0.0.0/33'])).toThrow();
  });
});
