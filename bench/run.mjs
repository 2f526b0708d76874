// npm run bench: Porthole against baselines measured in the same run on the
// same machine, printed as one table of ratios and kept in RESULTS.md.
//
//   BENCH_ROUNDS=5      measured rounds (plus one warm-up round)
//   BENCH_SCALE=1       multiplies every timed loop's duration
//   BENCH_SANDBOXES=1000  sandboxes served at once in the memory figure
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { benchDir } from './lib/fixtures.mjs';
import { CONTEXT, ROWS, roundPairs, STREAM_BYTES } from './lib/figures.mjs';
import { describeMachine } from './lib/machine.mjs';
import { contextRows, goalRows, renderTable, updateResults } from './lib/report.mjs';
import { startSession } from './lib/session.mjs';
import { measureMemory } from './memory.mjs';
import { measureNeighbour } from './neighbour.mjs';

const ROUNDS = boundedInt(process.env.BENCH_ROUNDS, 5, 1, 20);
const SCALE = Math.min(4, Math.max(0.1, Number(process.env.BENCH_SCALE ?? 1) || 1));
const SANDBOXES = boundedInt(process.env.BENCH_SANDBOXES, 1000, 2, 5000);
// A step that takes longer than this is broken, not slow.
const STEP_TIMEOUT_MS = 120_000;
const RESULTS = fileURLToPath(new URL('RESULTS.md', import.meta.url));

function boundedInt(text, fallback, min, max) {
  const n = Number.parseInt(text ?? '', 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

const log = (text) => process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0)}s] ${text}\n`);
const t0 = performance.now();

async function runRounds(session) {
  const rounds = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const results = {};
    for (const [index, pair] of roundPairs(session, SCALE).entries()) {
      const order = (round + index) % 2 === 0 ? pair : [...pair].reverse();
      for (const [key, cmd, args] of order) results[key] = await session.step(cmd, args, STEP_TIMEOUT_MS);
    }
    if (round === 0) log('warm-up round done');
    else {
      rounds.push(results);
      log(`round ${round}/${ROUNDS} done`);
    }
  }
  return rounds;
}

// A part that fails still leaves the rest of the table, with a row that
// says what broke.
async function orFailed(name, run) {
  try {
    return await run();
  } catch (error) {
    log(`${name} failed: ${error.message}`);
    const row = { figure: `${name} figures`, baseline: '—', base: '—', porthole: '—', ratio: `failed: ${error.message.split('\n')[0]}`, goal: '—', met: false };
    return { raw: { error: String(error.stack ?? error) }, rows: [row], context: [] };
  }
}

const machine = describeMachine();
const dir = await benchDir();
let session;
try {
  log(`folder ${dir.path}`);
  session = await startSession(dir.path, { artifactBytes: STREAM_BYTES });
  const rounds = await runRounds(session);
  const neighbour = await orFailed('neighbour', () => measureNeighbour(session, { scale: SCALE, log }));
  await session.close();
  session = undefined;
  const memory = await orFailed('memory', () => measureMemory(dir.path, { sandboxes: SANDBOXES, log }));

  const goals = [...goalRows(ROWS, rounds), ...neighbour.rows, ...memory.rows];
  const context = [...contextRows(CONTEXT, rounds), ...memory.context];
  const seconds = (performance.now() - t0) / 1000;
  const table = renderTable(goals, context, machine, { date: new Date().toISOString().slice(0, 16).replace('T', ' '), rounds: ROUNDS, seconds });
  process.stdout.write(`\n${table}\n`);
  await updateResults(RESULTS, table);
  const raw = join(tmpdir(), 'porthole-bench-last.json');
  await writeFile(raw, JSON.stringify({ machine, rounds, neighbour: neighbour.raw, memory: memory.raw }, null, 1));
  log(`table written to ${RESULTS}; raw figures in ${raw}`);
} finally {
  await session?.close();
  await dir.remove();
}
