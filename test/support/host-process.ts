import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { AUDIT_FLUSH_MS, type AuditEntry } from '@porthole/host';

import { ROOT } from './node-child.js';
import { tempDir } from './temp-dir.js';

// /proc/<pid>/stat counts CPU in clock ticks; Linux fixes USER_HZ at 100.
const MS_PER_TICK = 10;
const READY_MS = 20_000;

/** The config entry of a sandbox whose folders are under the host's temp dir. */
export function processSandbox(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    listen: { udsPath: `run/${id}.vsock`, port: 52 },
    artifacts: `${id}/artifacts`,
    outputs: { dir: `${id}/outputs`, maxBytes: '1GiB', maxFiles: 10_000, maxFileBytes: '64MiB' },
    ...extra,
  };
}

/**
 * `porthole-host serve` in its own process, from the built dist, with its
 * config in a temporary folder: CPU time, memory and open descriptors are
 * the host's alone, as they are in production.
 */
export class HostProcess {
  private stderrTail = '';

  private constructor(
    readonly dir: string,
    readonly child: ChildProcess,
    readonly sockets: Record<string, string>,
    private readonly removeDir: () => Promise<void>,
  ) {
    child.stderr?.on('data', (part: Buffer) => {
      this.stderrTail = (this.stderrTail + part.toString()).slice(-4000);
    });
  }

  /**
   * Writes the config (sandboxes as a config file holds them, paths
   * relative to the temp dir) and starts the host; `prepare` fills the
   * folders first.
   */
  static async start(
    sandboxes: Record<string, unknown>[],
    options: { limits?: Record<string, unknown>; prepare?: (dir: string) => Promise<void> } = {},
  ): Promise<HostProcess> {
    const temp = await tempDir('hostproc');
    for (const sandbox of sandboxes) {
      if (typeof sandbox.artifacts === 'string') await mkdir(join(temp.path, sandbox.artifacts), { recursive: true });
    }
    await options.prepare?.(temp.path);
    const config = { audit: { path: 'audit.jsonl' }, logLevel: 'warn', sandboxes, ...(options.limits ? { limits: options.limits } : {}) };
    await writeFile(join(temp.path, 'host.json'), JSON.stringify(config));

    const child = spawn(process.execPath, [join(ROOT, 'packages/host/bin/porthole-host.js'), 'serve', '--config', join(temp.path, 'host.json')], {
      cwd: temp.path,
      // Never let anything in the host fall back to a vsock default.
      env: { ...process.env, PORTHOLE_ADDRESS: 'unix:/nonexistent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (part: Buffer) => {
      stderr += part.toString();
    });
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => child.kill('SIGKILL'), READY_MS);
    let ready: { sockets?: Record<string, string> } | undefined;
    try {
      for await (const line of lines) {
        ready = JSON.parse(line) as typeof ready;
        break;
      }
    } finally {
      clearTimeout(timer);
      lines.close();
    }
    if (!ready?.sockets) {
      child.kill('SIGKILL');
      await temp.remove();
      throw new Error(`porthole-host did not start: ${stderr.slice(-2000)}`);
    }
    return new HostProcess(temp.path, child, ready.sockets, temp.remove);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  address(id: string): string {
    const path = this.sockets[id];
    if (!path) throw new Error(`no socket for sandbox ${id}`);
    return `unix:${path}`;
  }

  /** User plus system CPU time the host process has used, in ms. */
  async cpuMs(): Promise<number> {
    const stat = await readFile(`/proc/${this.pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  }

  /** Resident memory now and at its peak, in KiB. */
  async memory(): Promise<{ rssKiB: number; hwmKiB: number }> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
  }

  async audit(): Promise<AuditEntry[]> {
    // The host appends its lines at most AUDIT_FLUSH_MS after each call.
    await new Promise((resolve) => setTimeout(resolve, 2 * AUDIT_FLUSH_MS + 10));
    const text = await readFile(join(this.dir, 'audit.jsonl'), 'utf8').catch(() => '');
    return text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEntry);
  }

  /** The last few KiB the host wrote on stderr, for failure messages. */
  get stderr(): string {
    return this.stderrTail;
  }

  /** SIGTERM, then SIGKILL after 5 s; removes the temp dir. */
  async stop(): Promise<void> {
    if (this.alive) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await this.removeDir();
  }
}
