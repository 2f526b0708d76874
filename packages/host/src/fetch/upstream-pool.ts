import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';

import type { Socket } from 'node:net';

import { Agent, buildConnector } from 'undici';

import type { CompiledRule } from '../policy/fetch-policy.js';
import type { ConnectionBudget } from './connection-budget.js';
import { EgressDenied } from './egress-denied.js';

/** Resolves a hostname to every address it has. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

/**
 * Called with each address right before the host connects to it. Tests use
 * it to fail loudly if anything but loopback is ever dialled.
 */
export type EgressGuard = (address: string, port: number) => void;

export const systemResolver: Resolver = (hostname) =>
  dnsLookup(hostname, { all: true, verbatim: true });

// Connections kept per origin: enough for an agent's parallel calls; the
// sandbox's budget caps the total across origins.
const CONNECTIONS_PER_ORIGIN = 8;
const CONNECT_TIMEOUT_MS = 10_000;
// Response head size, as Node's own HTTP parser default.
const MAX_RESPONSE_HEADER_BYTES = 16 * 1024;

type LookupCallback = (
  error: Error | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * One undici Agent per fetch rule. The Agent resolves names through a
 * lookup that judges every address against the rule and hands net.connect
 * only addresses that passed: the address checked is the address used.
 */
export class UpstreamPool {
  private readonly agents = new Map<number, Agent>();

  constructor(
    private readonly budget: ConnectionBudget,
    private readonly resolver: Resolver = systemResolver,
    private readonly guard?: EgressGuard,
  ) {}

  dispatcher(rule: CompiledRule): Agent {
    let agent = this.agents.get(rule.index);
    if (!agent) {
      agent = new Agent({
        connections: CONNECTIONS_PER_ORIGIN,
        maxHeaderSize: MAX_RESPONSE_HEADER_BYTES,
        connect: this.connector(rule),
      });
      this.agents.set(rule.index, agent);
    }
    return agent;
  }

  /** undici's connector, opening a socket only with a slot of the budget. */
  private connector(rule: CompiledRule): buildConnector.connector {
    const connect = buildConnector({ timeout: CONNECT_TIMEOUT_MS, lookup: this.lookup(rule) } as buildConnector.BuildOptions);
    return (options, callback) => {
      let release: () => void;
      try {
        release = this.budget.acquire();
      } catch (error) {
        callback(error as Error, null);
        return;
      }
      // The slot is given back when the socket's descriptor is closed, also
      // after a failed connect: until then the host still holds it.
      const opened = connect(options, (error, socket) => {
        if (error || !socket) {
          if (opened && !opened.closed) opened.once('close', release);
          else release();
          callback(error ?? new Error('no socket'), null);
          return;
        }
        (socket as Socket).once('close', release);
        callback(null, socket);
      }) as Socket | undefined;
    };
  }

  /** Judges an IP-literal host, which net.connect never looks up. */
  checkLiteral(rule: CompiledRule, address: string, port: number): void {
    const problem = rule.problem(address);
    if (problem) throw new EgressDenied(problem);
    this.guard?.(address, port);
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((agent) => agent.close()));
    this.agents.clear();
  }

  private lookup(rule: CompiledRule) {
    return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
      this.resolver(hostname).then(
        (addresses) => {
          try {
            this.answer(rule, hostname, addresses, options, callback);
          } catch (error) {
            callback(error as Error, '');
          }
        },
        (error: Error) => callback(error, ''),
      );
    };
  }

  private answer(
    rule: CompiledRule,
    hostname: string,
    addresses: LookupAddress[],
    options: LookupOptions,
    callback: LookupCallback,
  ): void {
    const family = options.family === 4 || options.family === 6 ? options.family : 0;
    const candidates = addresses.filter((a) => family === 0 || a.family === family);
    const allowed = candidates.filter((a) => rule.problem(a.address) === undefined);
    const first = allowed[0];
    if (!first) {
      const reason = candidates[0] ? rule.problem(candidates[0].address) : 'it has no address';
      throw new EgressDenied(`${hostname} resolves to no allowed address: ${reason}`);
    }
    for (const a of allowed) this.guard?.(a.address, 0);
    if (options.all) callback(null, allowed);
    else callback(null, first.address, first.family);
  }
}
