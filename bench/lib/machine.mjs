// A description of the machine and software a run measured.
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function version(name) {
  try {
    return require(`${name}/package.json`).version;
  } catch {
    return 'unknown';
  }
}

function virtualization() {
  try {
    return /hypervisor/.test(readFileSync('/proc/cpuinfo', 'utf8')) ? 'virtual machine' : 'bare metal';
  } catch {
    return 'unknown';
  }
}

export function describeMachine() {
  const cpu = cpus();
  return {
    cpu: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown'}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    kernel: `Linux ${release()} (${virtualization()})`,
    node: process.version,
    grpcJs: version('@grpc/grpc-js'),
    undici: version('undici'),
    loadAtStart: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}
