// Writes a deterministic CSV of sensor readings: the multi-megabyte artifact
// the demo agent streams. Same seed, same bytes, on every machine.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export async function writeDataset(path, rows = 80_000) {
  const out = createWriteStream(path);
  let seed = 0x5eed;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const start = Date.UTC(2026, 10, 1);

  out.write('time,sensor,temperature_c,humidity_pct\n');
  for (let i = 0; i < rows; i++) {
    const time = new Date(start + i * 15_000).toISOString();
    const sensor = `sensor-${String(i % 12).padStart(2, '0')}`;
    const temperature = (18 + 14 * random()).toFixed(2);
    const humidity = (40 + 45 * random()).toFixed(1);
    if (!out.write(`${time},${sensor},${temperature},${humidity}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
