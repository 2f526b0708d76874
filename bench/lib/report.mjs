// Turns rounds into the table: medians of values, per-round ratios, their
// median and [min–max], and whether each goal is met.
import { readFile, writeFile } from 'node:fs/promises';

import { spread } from './stats.mjs';

const START = '<!-- bench:table:start -->';
const END = '<!-- bench:table:end -->';

const fmtRange = (s, show) => `${show(s.median)} [${show(s.min)}–${show(s.max)}]`;
const times = (x) => `${x.toFixed(2)} ×`;

/** Markdown rows for goal figures measured in rounds. */
export function goalRows(rows, rounds) {
  return rows.map((row) => {
    const base = spread(rounds.map(row.base));
    const porthole = spread(rounds.map(row.porthole));
    const ratio = spread(rounds.map(row.ratio));
    const showRatio = row.showRatio ?? times;
    return {
      figure: row.figure,
      baseline: row.baseline,
      base: `${row.show(base.median)}`,
      porthole: `${row.show(porthole.median)}`,
      ratio: fmtRange(ratio, showRatio),
      goal: row.goal,
      met: ratio.n > 0 && row.ok(ratio.median),
    };
  });
}

export function contextRows(context, rounds) {
  return context.map((c) => ({ name: c.name, value: fmtRange(spread(rounds.map(c.value)), c.show) }));
}

export function renderTable(goals, context, machine, meta) {
  const lines = [
    `Run ${meta.date}, ${meta.rounds} interleaved rounds after one warm-up round, ${meta.seconds.toFixed(0)} s in all.`,
    `Machine: ${machine.cpu}, ${machine.memory}, ${machine.kernel}; Node ${machine.node}, grpc-js ${machine.grpcJs}, undici ${machine.undici}; load average at start ${machine.loadAtStart}.`,
    '',
    '| figure | baseline (same run) | baseline | Porthole | ratio, median [min–max] of rounds | goal | met |',
    '|---|---|---|---|---|---|---|',
    ...goals.map((g) => `| ${g.figure} | ${g.baseline} | ${g.base} | ${g.porthole} | ${g.ratio} | ${g.goal} | ${g.met ? 'yes' : '**no**'} |`),
    '',
    'Baselines in the same rounds, for context:',
    '',
    '| baseline | median [min–max] |',
    '|---|---|',
    ...context.map((c) => `| ${c.name} | ${c.value} |`),
  ];
  return lines.join('\n');
}

/** Replaces the table between the markers in RESULTS.md, keeping the notes. */
export async function updateResults(file, table) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    text = `# Benchmark results\n\n${START}\n${END}\n`;
  }
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) text = `${text.trimEnd()}\n\n${START}\n${END}\n`;
  const s = text.indexOf(START);
  const e = text.indexOf(END);
  await writeFile(file, `${text.slice(0, s + START.length)}\n${table}\n${text.slice(e)}`);
}
