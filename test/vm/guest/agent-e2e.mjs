// Runs inside a test microVM. Knows only the SDK: no address is set, so it
// dials the in-VM default, vsock:2:52, as an agent under Firecracker would.
// Results go to the console as PORTHOLE_RESULT lines for the host test.
import { createHash, randomBytes } from 'node:crypto';

import { connect, PortholeError } from '@porthole/guest';

const report = (name, detail) => console.log(`PORTHOLE_RESULT ${JSON.stringify({ name, ...detail })}`);
const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const step = async (name, fn) => {
  try {
    report(name, { ok: true, ...(await fn()) });
  } catch (error) {
    report(name, { ok: false, code: error.code, error: String(error.stack ?? error) });
  }
};

const porthole = connect();
await step('hello', async () => ({ sandboxId: (await porthole.hello()).sandboxId, address: process.env.PORTHOLE_ADDRESS ?? null }));
await step('list', async () => ({ names: (await porthole.listArtifacts()).map((a) => a.name) }));
await step('read', async () => {
  const started = performance.now();
  const data = await porthole.readArtifactBuffer(process.env.MINE);
  return { bytes: data.length, sha256: sha256(data), ms: Math.round(performance.now() - started) };
});
await step('read-other', async () => {
  try {
    await porthole.readArtifactBuffer(process.env.OTHER);
    return { refused: false };
  } catch (error) {
    if (!(error instanceof PortholeError)) throw error;
    return { refused: true, code: error.code };
  }
});
await step('write', async () => {
  const data = randomBytes(Number(process.env.WRITE_MIB ?? 1) * 1024 * 1024);
  const stored = await porthole.writeOutput('from-vm.bin', data, { idempotencyKey: `vm-${process.env.MINE}` });
  return { size: stored.size, sha256: stored.sha256, replayed: stored.replayed, sent: sha256(data) };
});
await step('rtt', async () => {
  const times = [];
  for (let i = 0; i < 60; i++) {
    const started = performance.now();
    await porthole.listArtifacts();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: +times[30].toFixed(2), p90: +times[54].toFixed(2) };
});
porthole.close();
report('guest-done', { ok: true });
