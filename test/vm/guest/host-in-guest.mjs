// Runs inside a test microVM: a Porthole host service listening on AF_VSOCK
// (as under QEMU vhost-vsock) and on a Unix socket, and SDK clients in the
// same guest dialling it over vsock_loopback (peer CID 1) and over the Unix
// socket, for the identity check and the transport cost figures.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';

import { connect } from '@porthole/guest';
import { createHostService } from '@porthole/host';
import { validateHostConfig } from '@porthole/shared';
import { pino } from 'pino';

const report = (name, detail) => console.log(`PORTHOLE_RESULT ${JSON.stringify({ name, ...detail })}`);
const MiB = 1024 * 1024;
const base = '/tmp/h';
mkdirSync(`${base}/artifacts`, { recursive: true });
const data = randomBytes(4 * MiB);
writeFileSync(`${base}/artifacts/data.bin`, data);

const start = async (vsock, sandboxes) => {
  const result = validateHostConfig({ audit: { path: `${base}/audit-${vsock.port}.jsonl` }, logLevel: 'silent', vsock, sandboxes });
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  const service = createHostService({ config: result.config, logger: pino({ level: 'silent' }) });
  await service.listen();
  return service;
};
const outputs = { dir: `${base}/outputs`, maxBytes: '64MiB', maxFiles: 10, maxFileBytes: '32MiB' };
const service = await start({ port: 5252 }, [
  { id: 'loop', cid: 1, artifacts: `${base}/artifacts`, outputs },
  { id: 'plain', listen: { udsPath: `${base}/plain.vsock`, port: 52 }, artifacts: `${base}/artifacts` },
]);
// A second host whose only sandbox has another CID: this guest (CID 1) is nobody there.
const stranger = await start({ port: 5353 }, [{ id: 'other', cid: 7 }]);

async function figures(address) {
  const porthole = connect({ address });
  const hello = await porthole.hello();
  for (let i = 0; i < 10; i++) await porthole.listArtifacts();
  const times = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    await porthole.listArtifacts();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const reads = [];
  for (let round = 0; round < 2; round++) {
    const t = performance.now();
    const got = await porthole.readArtifactBuffer('data.bin');
    reads.push(+(got.length / ((performance.now() - t) / 1000) / 1e6).toFixed(1));
  }
  porthole.close();
  return { sandboxId: hello.sandboxId, p50: +times[25].toFixed(3), p90: +times[45].toFixed(3), readMBps: reads, sha: createHash('sha256').update(data).digest('hex') };
}

try {
  const vsock = await figures('vsock:1:5252');
  report('vsock', { ok: vsock.sandboxId === 'loop', ...vsock });
  const unix = await figures(`unix:${base}/plain.vsock_52`);
  report('unix', { ok: unix.sandboxId === 'plain', ...unix });

  const porthole = connect({ address: 'vsock:1:5252' });
  const stored = await porthole.writeOutput('over-vsock.txt', 'written over AF_VSOCK\n');
  porthole.close();
  report('write', { ok: stored.size === 22, output: stored.name, size: stored.size });

  const nobody = connect({ address: 'vsock:1:5353', retry: { attempts: 1 } });
  const refused = await nobody.hello().then(() => ({ ok: false, error: 'hello answered for an unknown CID' }), (error) => ({ ok: error.code === 'UNAVAILABLE', code: error.code }));
  nobody.close();
  report('unknown-cid', refused);

  const missing = connect({ address: 'vsock:1:5999', retry: { attempts: 1 } });
  const noListener = await missing.hello().then(() => ({ ok: false }), (error) => ({ ok: error.code === 'UNAVAILABLE', code: error.code, message: error.message }));
  missing.close();
  report('no-listener', noListener);
} catch (error) {
  report('failed', { ok: false, error: String(error.stack ?? error) });
} finally {
  await service.close();
  await stranger.close();
  report('guest-done', { ok: true });
}
