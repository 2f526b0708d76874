// Profiles one figure: the same processes as `npm run bench`, with the host
// and the client worker under --cpu-prof, the figure's step run back to
// back for a while, then the top functions of each side.
//   node bench/profile.mjs STEP [SECONDS]
//   STEP is a key of lib/figures.mjs, such as hello1, read, write, fetch1k
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { summarizeProfile } from './lib/cpu-profile.mjs';
import { benchDir } from './lib/fixtures.mjs';
import { roundPairs, STREAM_BYTES } from './lib/figures.mjs';
import { startSession } from './lib/session.mjs';

const [step, secondsText] = process.argv.slice(2);
const seconds = Math.min(60, Math.max(1, Number(secondsText) || 8));
const MAX_RUNS = 2000;

const dir = await benchDir();
const profiles = join(dir.path, 'profiles');
await mkdir(join(profiles, 'host'), { recursive: true });
await mkdir(join(profiles, 'client'), { recursive: true });
try {
  const session = await startSession(dir.path, {
    artifactBytes: STREAM_BYTES,
    hostNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(profiles, 'host')}`],
    workerNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(profiles, 'client')}`],
  });
  try {
    const found = roundPairs(session).flat().find(([key]) => key === step);
    if (!found) throw new Error(`no step ${step}; steps: ${roundPairs(session).flat().map(([k]) => k).join(', ')}`);
    const [, cmd, args] = found;
    const end = performance.now() + seconds * 1000;
    let runs = 0;
    let last;
    while (performance.now() < end && runs < MAX_RUNS) {
      last = await session.worker.call(cmd, args, 120_000);
      runs++;
    }
    process.stdout.write(`${step}: ${runs} runs, last ${JSON.stringify(last)}\n`);
  } finally {
    await session.close();
  }
  for (const side of ['host', 'client']) {
    const [file] = await readdir(join(profiles, side));
    if (!file) continue;
    const summary = await summarizeProfile(join(profiles, side, file), Number(process.env.PROFILE_TOP ?? 20));
    process.stdout.write(`\n== ${side}: ${summary.samples} samples, busy ${summary.busy}\n-- self\n`);
    for (const { share, name } of summary.self) process.stdout.write(`${share.padStart(6)}  ${name}\n`);
    process.stdout.write('-- total (self + callees)\n');
    for (const { share, name } of summary.total) process.stdout.write(`${share.padStart(6)}  ${name}\n`);
  }
} finally {
  await dir.remove();
}
