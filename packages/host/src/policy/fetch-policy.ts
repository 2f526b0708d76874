import {
  MAX_URL_LENGTH,
  PortholeError,
  type FetchPolicy,
  type FetchRule,
  type HttpMethod,
} from '@porthole/shared';
import ipaddr from 'ipaddr.js';

import { resolveCredentials, type ResolvedCredential } from '../fetch/credentials.js';
import { AddressJudge } from './address-judge.js';

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

/** A fetch rule compiled once, with the judge for the addresses it names. */
export interface CompiledRule {
  readonly index: number;
  readonly rule: FetchRule;
  readonly judge: AddressJudge;
  /** Secrets injected into matching requests; read by loadSecrets(). */
  credentials: readonly ResolvedCredential[];
  matches(url: URL, method: string): boolean;
}

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

  constructor(policy: FetchPolicy) {
    this.rules = policy.allow.map((rule, index) => compileRule(rule, index));
  }

  /**
   * Reads every rule's injected secrets. `where` is the config path of this
   * fetch policy, for messages: `sandboxes[0].fetch`.
   */
  async loadSecrets(where: string): Promise<void> {
    for (const compiled of this.rules) {
      compiled.credentials = await resolveCredentials(compiled.rule.inject, `${where}.allow[${compiled.index}]`);
    }
  }

  /** Every injected secret, so anything shown to the guest can be redacted. */
  secrets(): string[] {
    return this.rules.flatMap((r) => r.credentials.flatMap((c) => [c.value, c.secret]));
  }

  /**
   * Parses a guest URL once with the WHATWG parser and finds the rule that
   * allows it, or throws INVALID_ARGUMENT / POLICY_DENIED naming the field.
   */
  check(text: string, method: string, field = 'url'): AllowedTarget {
    const url = parseUrl(text, field);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = url.port ? Number(url.port) : (DEFAULT_PORTS[url.protocol] ?? 0);
    const rule = this.rules.find((candidate) => candidate.matches(url, method));
    if (!rule) {
      throw new PortholeError(
        'POLICY_DENIED',
        `no fetch rule allows ${method} ${url.protocol}//${url.host}${url.pathname}`,
        { field },
      );
    }
    return { url, rule, host, port, literal: ipaddr.isValid(host) };
  }
}

function parseUrl(text: string, field: string): URL {
  if (text.length > MAX_URL_LENGTH) {
    throw new PortholeError('INVALID_ARGUMENT', `${field} is ${text.length} characters, at most ${MAX_URL_LENGTH}`, { field, limit: MAX_URL_LENGTH });
  }
  let url: URL;
  try {
    url = new URL(text);
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

function compileRule(rule: FetchRule, index: number): CompiledRule {
  const wildcard = rule.host.startsWith('*.') ? rule.host.slice(1) : undefined;
  const literal = ipaddr.isValid(rule.host) ? ipaddr.parse(rule.host).toNormalizedString() : undefined;
  const scheme = `${rule.scheme}:`;
  const port = rule.port ?? DEFAULT_PORTS[scheme];
  const methods = new Set<string>(rule.methods satisfies HttpMethod[]);

  function hostMatches(host: string): boolean {
    if (literal !== undefined) {
      return ipaddr.isValid(host) && ipaddr.parse(host).toNormalizedString() === literal;
    }
    const name = host.replace(/\.$/, '');
    return wildcard ? name.endsWith(wildcard) && name.length > wildcard.length : name === rule.host;
  }

  return {
    index,
    rule,
    judge: new AddressJudge(rule.allowAddresses, literal === undefined ? undefined : rule.host),
    credentials: [],
    matches(url, method) {
      const urlPort = url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol];
      return url.protocol === scheme && urlPort === port && methods.has(method) &&
        url.pathname.startsWith(rule.pathPrefix) &&
        hostMatches(url.hostname.replace(/^\[|\]$/g, ''));
    },
  };
}
