// A closed loop: `concurrency` workers each start one operation and wait
// for it before starting the next. Bounded by time and by count, always.

const DEFAULT_MAX_OPS = 500_000;

/**
 * Runs `op` for warmMs (discarded), then measures for measureMs or maxOps
 * operations, whichever comes first. Returns operations per second, the
 * latency of every measured operation in microseconds, and allOps: the
 * operations of warm-up and measurement, for costs read over both.
 */
export async function closedLoop({ op, concurrency = 1, warmMs = 300, measureMs = 1500, maxOps = DEFAULT_MAX_OPS }) {
  const warm = await phase(op, concurrency, warmMs, Math.ceil(maxOps / 4), false);
  const measured = await phase(op, concurrency, measureMs, maxOps, true);
  return { ...measured, allOps: warm.ops + measured.ops };
}

async function phase(op, concurrency, durationMs, maxOps, record) {
  const latencies = record ? new Float64Array(maxOps) : undefined;
  let started = 0;
  let done = 0;
  const t0 = process.hrtime.bigint();
  const endNs = t0 + BigInt(Math.round(durationMs * 1e6));

  async function worker() {
    while (started < maxOps && process.hrtime.bigint() < endNs) {
      started++;
      const begin = process.hrtime.bigint();
      await op();
      if (latencies) latencies[done] = Number(process.hrtime.bigint() - begin) / 1000;
      done++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));

  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { ops: done, seconds, perSecond: done / seconds, latenciesUs: latencies?.subarray(0, done) };
}

/** Times one bulk transfer of `bytes`; returns MB/s (10^6 bytes/s). */
export async function timeTransfer(bytes, run) {
  const t0 = process.hrtime.bigint();
  const moved = await run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (moved !== bytes) throw new Error(`moved ${moved} bytes, expected ${bytes}`);
  return { bytes, seconds, mbPerSecond: bytes / seconds / 1e6 };
}
