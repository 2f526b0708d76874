// A neighbour's throughput while another sandbox floods the same host.
// The flooding sandbox runs under the README's example limits; the
// neighbour ("bench") under generous ones. Solo and flooded runs alternate.
import { fileURLToPath } from 'node:url';

import { FLOOD_ARTIFACT, BIG_ARTIFACT } from './lib/session.mjs';
import { startNode, stop } from './lib/processes.mjs';
import { spread } from './lib/stats.mjs';
import { STREAM_BYTES } from './lib/figures.mjs';

const FLOODER = fileURLToPath(new URL('clients/flooder.mjs', import.meta.url));
const ROUNDS = 3;
const FLOOD_LIFETIME_MS = 60_000;
const STEP_TIMEOUT_MS = 120_000;

async function neighbourFigures(session, scale) {
  const calls = await session.worker.call('portholeHello', { path: session.portholeSocket, concurrency: 8, measureMs: Math.round(1500 * scale) }, STEP_TIMEOUT_MS);
  const read = await session.worker.call('portholeRead', { path: session.portholeSocket, name: BIG_ARTIFACT, bytes: STREAM_BYTES }, STEP_TIMEOUT_MS);
  return { calls: calls.perSecond, mbPerSecond: read.mbPerSecond };
}

export async function measureNeighbour(session, { scale = 1, log = () => undefined } = {}) {
  const raw = [];
  for (let round = 0; round < ROUNDS; round++) {
    const solo = await neighbourFigures(session, scale);
    const flooder = await startNode(FLOODER, [session.floodSocket, FLOOD_ARTIFACT, String(FLOOD_LIFETIME_MS)], { stderr: 'inherit' });
    let flooded;
    try {
      // Let the flood reach its limits before measuring.
      await new Promise((resolve) => setTimeout(resolve, 500));
      flooded = await neighbourFigures(session, scale);
    } finally {
      await stop(flooder.child);
    }
    const counts = JSON.parse(flooder.output.at(-1) ?? '{}');
    raw.push({ solo, flooded, flood: counts });
    log(`neighbour round ${round + 1}/${ROUNDS} done`);
  }

  const row = (figure, pick, show) => {
    const ratio = spread(raw.map((r) => pick(r.flooded) / pick(r.solo)));
    return {
      figure,
      baseline: 'the same neighbour, solo',
      base: show(spread(raw.map((r) => pick(r.solo))).median),
      porthole: show(spread(raw.map((r) => pick(r.flooded))).median),
      ratio: `${ratio.median.toFixed(2)} × [${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}]`,
      goal: '≥ 0.9 ×',
      met: ratio.median >= 0.9,
    };
  };
  return {
    raw,
    rows: [
      row('Neighbour Hello calls/s (conc 8) during a flood', (f) => f.calls, (v) => `${Math.round(v).toLocaleString('en-US')}/s`),
      row('Neighbour ReadArtifact 256 MiB during a flood', (f) => f.mbPerSecond, (v) => `${v.toFixed(0)} MB/s`),
    ],
  };
}
