// The demo's agent, written as an agent author would: it knows only the
// SDK and $PORTHOLE_ADDRESS. It reads its data, calls its API, writes its
// report, then tries three things policy forbids and checks each refusal.
// Exits non-zero if anything behaves otherwise.
import { createInterface } from 'node:readline';
import { createHash } from 'node:crypto';

import { connect, PortholeError } from '@porthole/guest';

const api = process.env.DEMO_API;
const say = (line) => process.stdout.write(`agent: ${line}\n`);
const porthole = connect();

const hello = await porthole.hello();
say(`connected to sandbox "${hello.sandboxId}" (protocol ${hello.protocolVersion}); actions: ${hello.actions.join(', ')}`);

const artifacts = await porthole.listArtifacts();
say(`artifacts: ${artifacts.map((a) => `${a.name} (${a.size} bytes)`).join(', ')}`);

// Stream the data set line by line: memory stays flat whatever its size.
const stream = await porthole.readArtifact('sensors.csv');
const hash = createHash('sha256');
stream.on('data', (chunk) => hash.update(chunk));
const stats = new Map();
let rows = 0;
for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
  if (rows++ === 0) continue;
  const [, sensor, temperature, humidity] = line.split(',');
  const s = stats.get(sensor) ?? { n: 0, temperature: 0, humidity: 0, hot: 0 };
  s.n += 1;
  s.temperature += Number(temperature);
  s.humidity += Number(humidity);
  stats.set(sensor, s);
}
rows -= 1;
const digest = hash.digest('hex');
if (digest !== stream.head.sha256) throw new Error('sensors.csv does not match the sha256 the host announced');
say(`streamed sensors.csv: ${stream.head.length} bytes, ${rows} rows, sha256 ${digest.slice(0, 16)}... verified`);

const thresholds = await (await porthole.fetch(`${api}/v1/thresholds`)).json();
say(`GET ${api}/v1/thresholds -> ${JSON.stringify(thresholds)}`);

const sensors = [...stats].sort().map(([sensor, s]) => ({
  sensor,
  readings: s.n,
  meanTemperatureC: Number((s.temperature / s.n).toFixed(2)),
  meanHumidityPct: Number((s.humidity / s.n).toFixed(1)),
  overThreshold: s.temperature / s.n > thresholds.temperature,
}));
const posted = await porthole.fetch(`${api}/v1/summaries`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ rows, sensors: sensors.length }),
});
const receipt = await posted.json();
say(`POST ${api}/v1/summaries -> ${posted.status} ${JSON.stringify(receipt)}`);

const report = { source: 'sensors.csv', sha256: digest, rows, thresholds, receipt, sensors };
const stored = await porthole.writeOutput('report.json', JSON.stringify(report, null, 2), { contentType: 'application/json' });
say(`wrote report.json: ${stored.size} bytes, sha256 ${stored.sha256.slice(0, 16)}...`);

// Each of these must be refused by the host with a typed reason.
const forbidden = [
  ['fetch the cloud metadata address', 'POLICY_DENIED', () => porthole.fetch('http://169.254.169.254/latest/meta-data/')],
  ['fetch a host outside policy', 'POLICY_DENIED', () => porthole.fetch('https://example.com/')],
  ['follow a redirect to the metadata address', 'POLICY_DENIED', () => porthole.fetch(`${api}/v1/moved`)],
  ['fetch a name that resolves to loopback', 'POLICY_DENIED', () => porthole.fetch(`${api.replace('127.0.0.1', 'localhost')}/v1/thresholds`)],
  ['write an output named ../escape', 'INVALID_ARGUMENT', () => porthole.writeOutput('../escape', 'gotcha')],
];
let failures = 0;
for (const [what, expected, attempt] of forbidden) {
  try {
    await attempt();
    say(`UNEXPECTED: ${what} was allowed`);
    failures++;
  } catch (error) {
    if (!(error instanceof PortholeError) || error.code !== expected) {
      say(`UNEXPECTED: ${what} failed with ${error.code ?? error.message}, expected ${expected}`);
      failures++;
      continue;
    }
    say(`refused as expected: ${what} -> ${error.code}${error.field ? ` [${error.field}]` : ''}: ${error.message}`);
  }
}

porthole.close();
process.exitCode = failures === 0 ? 0 : 1;
