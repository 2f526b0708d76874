import {
  MAX_URL_LENGTH,
  PortholeError,
  type FetchPolicy,
  type FetchRule,
} from '@porthole/shared';
import ipaddr from 'ipaddr.js';

import { resolveCredentials, type ResolvedCredential } from '../fetch/credentials.js';
import { Redactor } from '../fetch/redactor.js';
import { AddressJudge } from './address-judge.js';
import { isIpLiteral } from './ip-literal.js';

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

/** A request URL after parsing, with the rule that allows it. */
export interface AllowedTarget {
  url: URL;
  rule: CompiledRule;
  /** The URL's hostname without IPv6 brackets. */
  host: string;
  port: number;
  /** True when the host is an IP literal (no name to resolve). */
  literal: boolean;
}

/** The fetch allow list of one sandbox, compiled when the policy loads. */
export class FetchAllowList {
  private readonly rules: CompiledRule[];
  private secretRedactor = new Redactor([]);

  constructor(policy: FetchPolicy) {
    this.rules = policy.allow.map((rule, index) => new CompiledRule(rule, index));
  }

  /**
   * Reads every rule's injected secrets. `where` is the config path of this
   * fetch policy, for messages: `sandboxes[0].fetch`.
   */
  async loadSecrets(where: string): Promise<void> {
    for (const compiled of this.rules) {
      compiled.credentials = await resolveCredentials(compiled.rule.inject, `${where}.allow[${compiled.index}]`);
    }
    this.secretRedactor = new Redactor(this.rules.flatMap((r) => r.credentials.flatMap((c) => [c.value, c.secret])));
  }

  /**
   * Hides every injected secret in what the guest is shown. Made once the
   * secrets are read, not per fetch; a reload builds a new allow list, so a
   * rotated secret is never redacted from a stale set.
   */
  get redactor(): Redactor {
    return this.secretRedactor;
  }

  /**
   * Parses a guest URL once with the WHATWG parser and finds the rule that
   * allows it, or throws INVALID_ARGUMENT / POLICY_DENIED naming the field.
   * `parsed` is `new URL(text)` when the caller already made it (for its
   * log line); every check on the text is still made.
   */
  check(text: string, method: string, field = 'url', parsed?: URL): AllowedTarget {
    const url = parseUrl(text, field, parsed);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : (DEFAULT_PORTS[url.protocol] ?? 0);
    const rule = this.rules.find((candidate) => candidate.matches(url, host, port, method));
    if (!rule) {
      throw new PortholeError(
        'POLICY_DENIED',
        `no fetch rule allows ${method} ${url.protocol}//${url.host}${url.pathname}`,
        { field },
      );
    }
    return { url, rule, host, port, literal: host === rule.spelling || isIpLiteral(host) };
  }
}

function parseUrl(text: string, field: string, parsed: URL | undefined): URL {
  if (text.length > MAX_URL_LENGTH) {
    throw new PortholeError('INVALID_ARGUMENT', `${field} is ${text.length} characters, at most ${MAX_URL_LENGTH}`, { field, limit: MAX_URL_LENGTH });
  }
  let url: URL;
  try {
    url = parsed ?? new URL(text);
  } catch {
    throw new PortholeError('INVALID_ARGUMENT', `${field} ${JSON.stringify(text.slice(0, 200))} is not an absolute URL`, { field });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PortholeError('INVALID_ARGUMENT', `${field} scheme ${url.protocol} is not http: or https:`, { field });
  }
  // Credentials in a URL would travel to the upstream under the guest's
  // control; injected credentials are the host's business.
  if (url.username || url.password) {
    throw new PortholeError('INVALID_ARGUMENT', `${field} carries user info; credentials in URLs are refused`, { field });
  }
  return url;
}

/**
 * A fetch rule compiled once, with the judge for the addresses it names.
 * Every sandbox holds one per rule, so it keeps plain fields and no closures.
 */
export class CompiledRule {
  readonly judge: AddressJudge;
  /** Secrets injected into matching requests; read by loadSecrets(). */
  credentials: readonly ResolvedCredential[] = [];
  private readonly wildcard: string | undefined;
  private readonly literal: string | undefined;
  /**
   * The rule's address as the WHATWG parser spells a URL's hostname, when
   * the rule names one: a URL written with that spelling is known to match,
   * and to be judged as `spellingProblem` says, without ipaddr.js parsing
   * the same literal again on every fetch. Other spellings take the full path.
   */
  readonly spelling: string | undefined;
  private readonly spellingProblem: string | undefined;
  private readonly scheme: string;
  private readonly port: number | undefined;

  constructor(readonly rule: FetchRule, readonly index: number) {
    this.wildcard = rule.host.startsWith('*.') ? rule.host.slice(1) : undefined;
    this.literal = ipaddr.isValid(rule.host) ? ipaddr.parse(rule.host).toNormalizedString() : undefined;
    this.scheme = `${rule.scheme}:`;
    this.port = rule.port ?? DEFAULT_PORTS[this.scheme];
    this.judge = new AddressJudge(rule.allowAddresses, this.literal === undefined ? undefined : rule.host);
    this.spelling = this.literal === undefined ? undefined : urlSpelling(this.literal);
    this.spellingProblem = this.spelling === undefined ? undefined : this.judge.problem(this.spelling);
  }

  /** `host` and `port` are the URL's, without brackets and with the scheme's default. */
  matches(url: URL, host: string, port: number, method: string): boolean {
    return url.protocol === this.scheme && port === this.port &&
      (this.rule.methods as readonly string[]).includes(method) &&
      url.pathname.startsWith(this.rule.pathPrefix) &&
      this.hostMatches(host);
  }

  /** Why the host may not connect to `address` for this rule, or undefined. */
  problem(address: string): string | undefined {
    return address === this.spelling ? this.spellingProblem : this.judge.problem(address);
  }

  private hostMatches(host: string): boolean {
    if (this.literal !== undefined) {
      return host === this.spelling || (isIpLiteral(host) && ipaddr.parse(host).toNormalizedString() === this.literal);
    }
    const name = host.replace(/\.$/, '');
    const { wildcard } = this;
    return wildcard ? name.endsWith(wildcard) && name.length > wildcard.length : name === this.rule.host;
  }
}

/**
 * How a URL's hostname spells the address `normalized` (brackets removed),
 * or undefined if that spelling would not parse back to it.
 */
function urlSpelling(normalized: string): string | undefined {
  const address = ipaddr.parse(normalized);
  let spelled: string;
  try {
    spelled = new URL(`http://${address.kind() === 'ipv6' ? `[${normalized}]` : normalized}/`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
  return ipaddr.isValid(spelled) && ipaddr.parse(spelled).toNormalizedString() === normalized ? spelled : undefined;
}
