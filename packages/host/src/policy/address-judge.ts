import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/**
 * Decides whether the host may connect to an address for one fetch rule.
 * Public unicast addresses are allowed; every other range (loopback,
 * private, link-local and cloud metadata, multicast, unspecified, NAT64,
 * 6to4, Teredo, reserved...) only when the rule names it.
 */
export class AddressJudge {
  private readonly named: Range[];

  /**
   * @param namedRanges CIDR ranges the policy names explicitly.
   * @param literalHost the rule's host, when it is an IP address.
   */
  constructor(namedRanges: readonly string[], literalHost?: string) {
    this.named = namedRanges.map((cidr) => normalizeRange(ipaddr.parseCIDR(cidr)));
    if (literalHost !== undefined && ipaddr.isValid(literalHost)) {
      const address = normalize(ipaddr.parse(literalHost));
      this.named.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    }
  }

  /** Why the address is refused, or undefined when it may be used. */
  problem(text: string): string | undefined {
    if (!ipaddr.isValid(text)) return `${text} is not an IP address`;
    const address = normalize(ipaddr.parse(text));
    const range = rangeOf(address);
    if (range === 'unicast') return undefined;
    if (this.named.some(([base, bits]) => sameKind(address, base) && address.match(base, bits))) {
      return undefined;
    }
    return `${text} is in the ${describe(range)} range, which policy does not name`;
  }
}

// An IPv4-mapped IPv6 address reaches the IPv4 host, so it is judged as one.
function normalize(address: Address): Address {
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress()) {
    return address.toIPv4Address();
  }
  return address;
}

function normalizeRange([address, bits]: Range): Range {
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() && bits >= 96) {
    return [address.toIPv4Address(), bits - 96];
  }
  return [address, bits];
}

// ipaddr.js calls every IPv6 address outside its special ranges unicast,
// but only 2000::/3 is assigned as global unicast; IPv4-compatible ::/96
// embeds an IPv4 address that a tunnelling stack would reach.
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

function rangeOf(address: Address): string {
  const range = address.range();
  if (range !== 'unicast' || !(address instanceof ipaddr.IPv6)) return range;
  if (address.match(IPV4_COMPATIBLE)) return 'ipv4Compatible';
  return address.match(GLOBAL_UNICAST_V6) ? 'unicast' : 'reserved';
}

function sameKind(a: Address, b: Address): boolean {
  return a.kind() === b.kind();
}

const RANGE_WORDS: Readonly<Record<string, string>> = {
  linkLocal: 'link-local (cloud metadata)',
  carrierGradeNat: 'carrier-grade NAT',
  uniqueLocal: 'unique-local (private)',
  rfc6052: 'NAT64',
  rfc6145: 'IPv4-translated',
  '6to4': '6to4',
  ipv4Compatible: 'IPv4-compatible',
};

function describe(range: string): string {
  return RANGE_WORDS[range] ?? range;
}
