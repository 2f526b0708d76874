import { createWriteStream, writeSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/** What happened to one call. */
export type Decision = 'allowed' | 'denied' | 'failed';

/** One audit line. Keys are fixed so downstream tools can rely on them. */
export interface AuditEntry {
  time: string;
  sandbox: string;
  action: string;
  /** What the call was about: an artifact or output name, a URL without its query. */
  target: string;
  decision: Decision;
  /** A reason code for denied and failed calls, null when allowed. */
  reason: string | null;
  message: string | null;
  /** Payload bytes moved for the guest, both directions. */
  bytes: number;
  /** Payload bytes from the guest. */
  bytesIn: number;
  /** Payload bytes to the guest. */
  bytesOut: number;
  /** Time upstream servers took (fetches). */
  upstreamMs: number;
  /** Host CPU time used while the call's code ran. */
  cpuMs: number;
  durationMs: number;
}

// Lines wait at most this long, or until this much has gathered, before
// they are appended. A small call is answered in about 0.3 ms: one append
// per call cost the host ~25 µs of CPU per Hello at concurrency 1 (15%),
// while a process that dies loses at most this much of its audit trail.
export const AUDIT_FLUSH_MS = 25;
const AUDIT_FLUSH_BYTES = 64 * 1024;

/**
 * Appends one JSON object per decision to a file the host owns. Separate
 * from operational logs: it records what guests asked and what they got.
 */
export class AuditLog {
  private readonly stream: WriteStream;
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private fd: number | undefined;

  constructor(path: string) {
    this.stream = createWriteStream(path, { flags: 'a', mode: 0o640 });
    this.stream.once('open', (fd: number) => (this.fd = fd));
  }

  /** Resolves once the file is open, rejecting when it cannot be. */
  async ready(): Promise<void> {
    if (this.stream.pending) await once(this.stream, 'open');
  }

  record(entry: AuditEntry): void {
    this.pending += `${JSON.stringify(entry)}\n`;
    if (this.pending.length >= AUDIT_FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), AUDIT_FLUSH_MS).unref();
  }

  /** Appends every line recorded so far, now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    // An append of a few lines to the page cache is one short syscall; the
    // stream's asynchronous write would wake a thread-pool thread and then
    // the event loop again for every turn. The stream still carries lines
    // while it opens, while earlier lines are queued in it, and after end.
    const fd = this.fd;
    if (fd === undefined || this.stream.writableLength > 0 || this.stream.writableEnded || this.stream.destroyed) {
      this.stream.write(text);
      return;
    }
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at);
  }

  async close(): Promise<void> {
    this.flush();
    if (this.stream.closed) return;
    await new Promise<void>((resolve) => this.stream.end(resolve));
  }
}
