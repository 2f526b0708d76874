import { readdir, readFile, readlink } from 'node:fs/promises';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HostProcess, processSandbox } from '../support/host-process.js';
import { LoadGuest, type LoadResult } from '../support/load-guest.js';
import { Upstream } from '../support/upstream.js';
import { LONG, median, ratioLine, sleep } from './figures.js';

// Network amplification: sandbox A floods FetchUrl with small requests to
// many destinations (20 servers on 127.0.0.1-127.0.0.5, each its own
// origin). The host must never hold more upstream sockets than its caps,
// and sandbox B's fetches must stay quick.

const ROUNDS = LONG ? 5 : 2;
const WINDOW_MS = LONG ? 4_000 : 2_000;
const DESTINATIONS = 20;
const SANDBOX_CAP = 8;
const HOST_CAP = 12;

describe('ATTACK network: a neighbour fetching from many destinations at once', () => {
  const upstreams: Upstream[] = [];
  let own: Upstream;
  let host: HostProcess;
  let flooder: LoadGuest;
  let steady: LoadGuest;

  beforeAll(async () => {
    const route = { '/small': (_req: unknown, res: { end: (body: string) => void }) => setTimeout(() => res.end('ok'), 5) };
    for (let i = 0; i < DESTINATIONS; i++) upstreams.push(await new Upstream(route).listen(`127.0.0.${1 + (i % 5)}`));
    own = await new Upstream({ '/b': (_req, res) => res.end('b') }).listen();
    const rule = (u: Upstream): Record<string, unknown> => ({ scheme: 'http', host: u.address, port: u.port });
    // A quarter of a core each, as in block-io: the operator's share for two tenants.
    const limits = { requestsPerSecond: 100_000, burst: 100_000, maxConcurrent: 64, cpuMsPerSecond: 250 };
    host = await HostProcess.start([
      processSandbox('flood', { fetch: { allow: upstreams.map(rule), maxConnections: SANDBOX_CAP, timeoutMs: 5_000 }, limits }),
      // B fetches flat out in its windows: a CPU budget of its own would
      // refuse it for its own work, which is not what this figure measures.
      processSandbox('steady', { fetch: { allow: [rule(own)], maxConnections: SANDBOX_CAP }, limits: { ...limits, cpuMsPerSecond: undefined } }),
    ], { limits: { maxUpstreamConnections: HOST_CAP } });
    flooder = LoadGuest.start(host.address('flood'), 'a-');
    steady = LoadGuest.start(host.address('steady'), 'b-');
  });

  afterAll(async () => {
    await flooder?.stop();
    await steady?.stop();
    await host?.stop();
    for (const u of [...upstreams, own]) await u?.close();
  });

  /** The host's established TCP sockets to each group of ports, from /proc. */
  async function hostSockets(floodPorts: Set<number>, ownPort: number): Promise<{ flood: number; own: number }> {
    const inodes = new Set<string>();
    for (const fd of await readdir(`/proc/${host.pid}/fd`).catch(() => [])) {
      const link = await readlink(`/proc/${host.pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode) inodes.add(inode);
    }
    const counts = { flood: 0, own: 0 };
    const table = await readFile(`/proc/${host.pid}/net/tcp`, 'utf8');
    for (const line of table.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || !inodes.has(cols[9]!)) continue;
      const port = parseInt(cols[2]!.split(':')[1]!, 16);
      if (floodPorts.has(port)) counts.flood++;
      else if (port === ownPort) counts.own++;
    }
    return counts;
  }

  it('holds upstream sockets at the caps and keeps B quick', async () => {
    const floodUrls = upstreams.map((u) => `${u.origin}/small`);
    const bFetch = { kind: 'fetch', concurrency: 1, urls: [`${own.origin}/b`], ms: WINDOW_MS } as const;
    const floodPorts = new Set(upstreams.map((u) => u.port));
    await steady.run({ ...bFetch, ms: 300 });

    const peaks = { host: 0, flood: 0, served: 0 };
    const soloP99: number[] = [];
    const floodP99: number[] = [];
    const soloP50: number[] = [];
    const floodP50: number[] = [];
    let flood: LoadResult | undefined;
    let samples = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const alone = await steady.run(bFetch);
      const aFlood = flooder.run({ kind: 'fetch', ms: WINDOW_MS + 600, concurrency: 64, urls: floodUrls });
      let sampling = true;
      const sampler = (async () => {
        for (let i = 0; sampling && i < 10_000; i++) {
          const now = await hostSockets(floodPorts, own.port);
          peaks.flood = Math.max(peaks.flood, now.flood);
          peaks.host = Math.max(peaks.host, now.flood + now.own);
          peaks.served = Math.max(peaks.served, upstreams.reduce((n, u) => n + u.openConnections, 0));
          samples++;
          await sleep(2);
        }
      })();
      await sleep(300);
      const under = await steady.run(bFetch);
      flood = await aFlood;
      sampling = false;
      await sampler;
      expect(alone.errors).toEqual({});
      expect(under.errors).toEqual({});
      soloP99.push(alone.p99);
      floodP99.push(under.p99);
      soloP50.push(alone.p50);
      floodP50.push(under.p50);
    }

    const p99Ratio = median(floodP99) / median(soloP99);
    console.log(ratioLine('network', `peak ${peaks.host} outbound sockets held by the host (cap ${HOST_CAP}; A's peak ${peaks.flood}, its cap ${SANDBOX_CAP}); B's fetch p99 latency x${p99Ratio.toFixed(2)} under the flood`, [
      `${DESTINATIONS} destinations on 127.0.0.1-5, ${ROUNDS} rounds of ${WINDOW_MS} ms, ${samples} samples of /proc/${'<pid>'}/net/tcp`,
      `B p50 ${median(soloP50).toFixed(1)} -> ${median(floodP50).toFixed(1)} ms, p99 ${median(soloP99).toFixed(1)} -> ${median(floodP99).toFixed(1)} ms`,
      `A's last round: ${flood!.ops} fetches served, refused ${JSON.stringify(flood!.errors)}`,
      `upstream servers saw at most ${peaks.served} open connections at once`,
    ]));
    expect(peaks.flood).toBeGreaterThan(0);
    expect(peaks.flood).toBeLessThanOrEqual(SANDBOX_CAP);
    expect(peaks.host).toBeLessThanOrEqual(HOST_CAP);
    expect(host.alive).toBe(true);
  }, 60_000);
});
