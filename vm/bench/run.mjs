// Collects the figures in vm/RESULTS.md. Sequential on purpose: parallel VMs on 2
// cores distort TCG timings. Usage: node vm/bench/run.mjs [boots=5] > figures.json
import net from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootVm, prepare, vmUnavailableReason } from '../harness/index.js';
import { pingPong } from '../test/guest-app/lib.mjs';

const why = vmUnavailableReason();
if (why) { console.error(`bench: cannot boot VMs here: ${why}`); process.exit(2); }
const appDir = fileURLToPath(new URL('../test/guest-app', import.meta.url));
const MiB = 1024 * 1024;
const out = {};
const log = (m) => process.stderr.write(`bench: ${m}\n`);

let t = performance.now();
const image = prepare(appDir);
out.prepareCachedMs = +(performance.now() - t).toFixed(0);

// 1. Boot to ready (guest relay hello done) and to exit with a no-op agent.
out.boots = [];
for (let i = 0; i < Number(process.argv[2] ?? 5); i++) {
  t = performance.now();
  const vm = await bootVm({ image, agentCommand: 'true', lifetimeMs: 60_000 });
  const r = await vm.waitExit(30_000);
  out.boots.push({ readyMs: +vm.readyMs.toFixed(0), exitMs: +(performance.now() - t).toFixed(0), agentExit: r.agentExit });
  log(`boot ${i}: ${JSON.stringify(out.boots.at(-1))}`);
}

// 2. In-guest: option A vs B, and vsock vs in-guest UDS round trip.
{
  const vm = await bootVm({ image, agentCommand: 'node bench-options.mjs 3', lifetimeMs: 300_000 });
  await vm.waitExit(280_000);
  out.inGuest = vm.results();
  log(`in-guest: ${out.inGuest.length} results`);
}

// 3. Boundary: guest CID 2 -> host UDS, and host CONNECT -> guest, constant buffers.
async function hybrid(uds, port) {
  for (let i = 0; i < 100; i++) {
    const s = net.connect(uds);
    await once(s, 'connect');
    s.write(`CONNECT ${port}\n`);
    const [d] = await Promise.race([once(s, 'data'), once(s, 'close').then(() => [Buffer.from('')])]);
    if (d.toString().startsWith('OK ')) return s;
    s.destroy();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('CONNECT never succeeded');
}
async function hostWorkload(dial, label) {
  const e = await dial('echo');
  await pingPong(e, 100);
  const rtt = await pingPong(e, 1000);
  e.destroy();
  const w = await dial('sink');
  const chunk = Buffer.alloc(64 * 1024, 2);
  const t0 = performance.now();
  for (let i = 0; i < 512; i++) if (!w.write(chunk)) await once(w, 'drain');
  w.end();
  await once(w, 'data');
  const writeMBps = +((32 * MiB) / ((performance.now() - t0) / 1000) / 1e6).toFixed(2);
  w.destroy();
  log(`${label}: rtt p50 ${rtt.p50} write ${writeMBps} MB/s`);
  return { rtt, writeMBps };
}
{
  const dir = mkdtempSync(join(tmpdir(), 'phbench-'));
  const uds = join(dir, 'v.sock');
  const P = { ECHO: 1024, SINK: 1025, SOURCE: 1026 };
  const servers = [
    net.createServer((s) => s.pipe(s)).listen(`${uds}_${P.ECHO}`),
    net.createServer({ allowHalfOpen: true }, (s) => { let n = 0; s.on('data', (d) => { n += d.length; }); s.on('end', () => s.end(String(n))); }).listen(`${uds}_${P.SINK}`),
    net.createServer(async (s) => { s.on('error', () => {}); const c = Buffer.alloc(64 * 1024, 3); for (let i = 0; i < 512 && !s.destroyed; i++) if (!s.write(c)) await once(s, 'drain'); }).listen(`${uds}_${P.SOURCE}`),
  ];
  const vm = await bootVm({ image, udsPath: uds, guestPorts: Object.values(P), agentCommand: `node bench-boundary.mjs ${P.ECHO} ${P.SINK} ${P.SOURCE}`, lifetimeMs: 300_000 });
  for (let i = 0; i < 1200 && !vm.output.includes('"g2h-done"'); i++) await new Promise((r) => setTimeout(r, 100));
  out.boundaryGuestToHost = vm.results().find((r) => r.name === 'g2h');
  out.boundaryHostToGuest = await hostWorkload((k) => hybrid(uds, k === 'echo' ? 52 : 53), 'host->guest');
  (await hybrid(uds, 54)).resume();
  await vm.waitExit(60_000);
  // Plain host Unix socket, same workload, same process.
  const p = join(dir, 'plain');
  const echo = net.createServer((s) => s.pipe(s)).listen(`${p}.echo`);
  const sink = net.createServer({ allowHalfOpen: true }, (s) => { let n = 0; s.on('data', (d) => { n += d.length; }); s.on('end', () => s.end(String(n))); }).listen(`${p}.sink`);
  await Promise.all([once(echo, 'listening'), once(sink, 'listening')]);
  out.hostPlainUds = await hostWorkload(async (k) => { const s = net.connect({ path: `${p}.${k}`, allowHalfOpen: true }); await once(s, 'connect'); return s; }, 'host uds');
  for (const s of [...servers, echo, sink]) s.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(out, null, 1));
process.exit(0);
