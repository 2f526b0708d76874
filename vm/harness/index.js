// bootVm(): boot one Porthole test VM under QEMU and wait until the guest relay has
// completed its hello over virtio-serial. Layout and usage: HANDOFF.md at the repo root.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { qemuArgs } from './qemu.js';
import { startHostSide } from './host.js';

const here = dirname(fileURLToPath(import.meta.url));
const log = (m) => process.stderr.write(`porthole-vm: ${m}\n`);

/** Runs vm/prepare (cached) and returns {kernel, initrd, rootfs, tscKhz}. */
export function prepare(appDir, { timeoutMs = 300_000 } = {}) {
  const r = spawnSync(join(here, '..', 'prepare'), ['--app', appDir], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`vm/prepare failed (status ${r.status}${r.error ? ', ' + r.error.message : ''})`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/**
 * Why a VM cannot boot here, or null. Tests need QEMU installed already
 * (`.ci/run` or `npm run vm:prepare` installs it); with `installable`, apt-get
 * being there is enough. Never opens vsock on the host.
 */
export function vmUnavailableReason({ installable = false } = {}) {
  if (process.env.PORTHOLE_SKIP_VM) return `PORTHOLE_SKIP_VM is set (${process.env.PORTHOLE_SKIP_VM})`;
  if (process.platform !== 'linux') return `QEMU test VMs need Linux (platform is ${process.platform})`;
  if (process.arch !== 'x64') return `the VM recipe is x86_64-only (arch is ${process.arch})`;
  const probe = installable ? 'command -v qemu-system-x86_64 || command -v apt-get' : 'command -v qemu-system-x86_64';
  if (spawnSync('sh', ['-c', probe]).status !== 0) {
    return installable
      ? 'neither qemu-system-x86_64 nor apt-get is available to install it'
      : 'qemu-system-x86_64 is not installed (run `npm run vm:prepare`, or apt-get install qemu-system-x86)';
  }
  return null;
}

/**
 * @param {object} o
 * @param {string} o.agentCommand   shell command run in /mnt/app inside the guest
 * @param {string} [o.appDir]       folder copied to /mnt/app (agent code + node_modules)
 * @param {object} [o.image]        prebuilt {kernel,initrd,rootfs,tscKhz}; else prepare(appDir)
 * @param {number[]} [o.guestPorts] vsock ports a guest program may dial on CID 2
 * @param {string} [o.udsPath]      Firecracker-style uds_path (default in a temp dir)
 */
export async function bootVm({
  agentCommand, appDir, image, guestPorts = [], udsPath, memory = '384M',
  lifetimeMs = 180_000, readyTimeoutMs = 30_000, echoConsole = !!process.env.PORTHOLE_VM_CONSOLE,
}) {
  image ??= prepare(appDir);
  const dir = mkdtempSync(join(tmpdir(), 'phvm-'));
  udsPath ??= join(dir, 'v.sock');
  const pcmd = Buffer.from(agentCommand).toString('base64');
  if (pcmd.length > 1500) throw new Error('agentCommand too long for the kernel command line (1500 base64 chars)');
  const cmdline = `pcmd=${pcmd} pports=${guestPorts.join(',')}`;

  const t0 = performance.now();
  // `timeout` bounds QEMU's life even if this process dies without calling stop().
  const child = spawn('timeout', ['--kill-after=3', `${Math.ceil(lifetimeMs / 1000)}`, 'qemu-system-x86_64',
    ...qemuArgs({ image, dir, memory, cmdline })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const onOut = (d) => { output += d; if (echoConsole) process.stderr.write(d); };
  child.stdout.setEncoding('utf8').on('data', onOut);
  child.stderr.setEncoding('utf8').on('data', onOut);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

  const { mux, server } = startHostSide({ chPath: join(dir, 'ch.sock'), udsPath, log, readyTimeoutMs });

  const qemuPid = () => { try { return Number(readFileSync(join(dir, 'qemu.pid'), 'utf8')); } catch { return 0; } };
  let stopped = false;
  const stop = async () => {
    if (stopped) return exited;
    stopped = true;
    mux.detach(new Error('vm stopped'));
    server.close();
    const pid = qemuPid();
    if (child.exitCode === null) {
      try { if (pid) process.kill(pid, 'SIGKILL'); else process.kill(child.pid, 'SIGTERM'); } catch { /* already gone */ }
    }
    const r = await exited;
    rmSync(dir, { recursive: true, force: true });
    return r;
  };

  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`guest not ready after ${readyTimeoutMs} ms`)), readyTimeoutMs);
      mux.once('ready', () => { clearTimeout(timer); resolve(); });
      mux.once('error', (e) => { clearTimeout(timer); reject(e); });
      exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`QEMU exited before ready (code ${code}, signal ${signal})`)); });
    });
  } catch (e) {
    await stop();
    e.message += `\n--- console ---\n${output.slice(-4000)}`;
    throw e;
  }
  const readyMs = performance.now() - t0;

  // Agent exit status is printed by /init just before poweroff.
  const waitExit = async (timeoutMs = lifetimeMs) => {
    const t = setTimeout(() => stop(), timeoutMs);
    const r = await exited;
    clearTimeout(t);
    const m = /PORTHOLE_EXIT (\d+)/.exec(output);
    await stop();
    return { agentExit: m ? Number(m[1]) : null, qemu: r, output };
  };

  return {
    readyMs, udsPath, mux, dir, stop, waitExit,
    get output() { return output; },
    get pid() { return qemuPid(); },
    /** Lines the guest printed with a given prefix, parsed as JSON. */
    results(prefix = 'PORTHOLE_RESULT ') {
      return output.split('\n').filter((l) => l.startsWith(prefix)).map((l) => JSON.parse(l.slice(prefix.length)));
    },
  };
}

export { startHostSide } from './host.js';
export { Mux } from './mux.js';
