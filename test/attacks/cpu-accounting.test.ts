import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HostProcess, processSandbox } from '../support/host-process.js';
import { LoadGuest, type LoadResult } from '../support/load-guest.js';
import { LONG, median, ratioLine, sleep } from './figures.js';

// Work outside the guest's accounting: sandbox A makes the host work as
// hard as it can per byte it sends (1-byte output chunks, each a message,
// a hash update and a write; listings that open and stat 400 files; many
// streams at once). The figure is the host CPU charged to A against the
// host CPU measured, and B's p99 latency under A's load. A's CPU budget
// must stop it.

const ROUNDS = LONG ? 5 : 2;
const WINDOW_MS = LONG ? 4_000 : 2_000;
const A_CPU_MS_PER_SECOND = 100;
const LISTED_FILES = 400;

describe('ATTACK cpu: a neighbour making the host work per byte it sends', () => {
  let host: HostProcess;
  let writers: LoadGuest;
  let listers: LoadGuest;
  let steady: LoadGuest;

  beforeAll(async () => {
    host = await HostProcess.start([
      processSandbox('flood', { limits: { requestsPerSecond: 5_000, burst: 5_000, maxConcurrent: 32, cpuMsPerSecond: A_CPU_MS_PER_SECOND } }),
      processSandbox('steady', { limits: { requestsPerSecond: 5_000, burst: 5_000 } }),
    ], {
      prepare: async (dir) => {
        for (let i = 0; i < LISTED_FILES; i++) await writeFile(join(dir, `flood/artifacts/f${i}.txt`), 'x');
        await writeFile(join(dir, 'steady/artifacts/small.json'), '{"ok":true}');
      },
    });
    writers = LoadGuest.start(host.address('flood'), 'a-');
    listers = LoadGuest.start(host.address('flood'), 'a2-');
    steady = LoadGuest.start(host.address('steady'), 'b-');
  });

  afterAll(async () => {
    for (const guest of [writers, listers, steady]) await guest?.stop();
    await host?.stop();
  });

  it("charges A's work to A, and A's budget stops it while B stays quick", async () => {
    const bRead = { kind: 'read', concurrency: 1, names: ['small.json'], ms: WINDOW_MS } as const;
    await steady.run({ ...bRead, ms: 300 });
    await writers.run({ kind: 'tiny-write', ms: 100, concurrency: 1, size: 10 });
    await sleep(1_100);

    const soloP99: number[] = [];
    const floodP99: number[] = [];
    const charged = { flood: 0, steady: 0 };
    let measured = 0;
    let costliestCall = 0;
    let aWrites: LoadResult | undefined;
    let aLists: LoadResult | undefined;
    for (let round = 0; round < ROUNDS; round++) {
      const alone = await steady.run(bRead);
      await sleep(1_100); // A's budget refills between rounds.

      const auditBefore = (await host.audit()).length;
      const cpuBefore = await host.cpuMs();
      const writing = writers.run({ kind: 'tiny-write', ms: WINDOW_MS + 400, concurrency: 16, size: 2_000 });
      const listing = listers.run({ kind: 'list', ms: WINDOW_MS + 400, concurrency: 16 });
      await sleep(200);
      const under = await steady.run(bRead);
      [aWrites, aLists] = await Promise.all([writing, listing]);
      await sleep(300); // the last audit lines are written
      measured += (await host.cpuMs()) - cpuBefore;
      for (const entry of (await host.audit()).slice(auditBefore)) {
        if (entry.sandbox === 'flood' || entry.sandbox === 'steady') charged[entry.sandbox] += entry.cpuMs;
        if (entry.sandbox === 'flood') costliestCall = Math.max(costliestCall, entry.cpuMs);
      }
      expect(alone.errors).toEqual({});
      expect(under.errors).toEqual({});
      soloP99.push(alone.p99);
      floodP99.push(under.p99);
    }

    const refusals = { ...aWrites!.errors, ...aLists!.errors };
    const cpuRefusal = Object.values({ ...aWrites!.messages, ...aLists!.messages }).find((m) => m.includes('host CPU budget'));
    const share = charged.flood / measured;
    // The budget admits a call while the balance is positive and charges
    // it when it ends: over a window A gets its rate, its one-second burst
    // and what the calls already in flight spend (the debt then refuses A
    // for as long as it takes to repay).
    const budget = A_CPU_MS_PER_SECOND * ROUNDS * ((WINDOW_MS + 400) / 1000 + 1);
    const inFlight = 32 * costliestCall;
    const p99Ratio = median(floodP99) / median(soloP99);
    console.log(ratioLine('cpu', `${charged.flood.toFixed(0)} ms of host CPU charged to A of ${measured.toFixed(0)} ms measured (${(share * 100).toFixed(1)}%); B's p99 latency x${p99Ratio.toFixed(2)}`, [
      `${ROUNDS} rounds of ${WINDOW_MS} ms; charged to B ${charged.steady.toFixed(0)} ms; uncharged ${(measured - charged.flood - charged.steady).toFixed(0)} ms (gRPC framing, decoding and refusals run outside any call)`,
      `B p99 ${median(soloP99).toFixed(1)} -> ${median(floodP99).toFixed(1)} ms`,
      `A's last round: ${aWrites!.ops} 2000-chunk writes, ${aLists!.ops} listings of ${LISTED_FILES} files; refused ${JSON.stringify(refusals)}`,
      `A's budget ${A_CPU_MS_PER_SECOND} ms/s, ${budget.toFixed(0)} ms over these windows; its costliest call ${costliestCall.toFixed(0)} ms; refusal: ${cpuRefusal ?? 'none'}`,
    ]));
    expect(cpuRefusal).toBe(`the sandbox used its host CPU budget of ${A_CPU_MS_PER_SECOND} ms per second`);
    expect(charged.flood).toBeLessThanOrEqual(budget + ROUNDS * inFlight);
    expect(charged.flood).toBeGreaterThan(0);
    expect(host.alive).toBe(true);
  }, 60_000);
});
