import { createWriteStream, type WriteStream } from 'node:fs';
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
  /** Payload bytes moved for the guest, either direction. */
  bytes: number;
  durationMs: number;
}

/**
 * Appends one JSON object per decision to a file the host owns. Separate
 * from operational logs: it records what guests asked and what they got.
 */
export class AuditLog {
  private readonly stream: WriteStream;

  constructor(path: string) {
    this.stream = createWriteStream(path, { flags: 'a', mode: 0o640 });
  }

  /** Resolves once the file is open, rejecting when it cannot be. */
  async ready(): Promise<void> {
    if (this.stream.pending) await once(this.stream, 'open');
  }

  record(entry: AuditEntry): void {
    this.stream.write(`${JSON.stringify(entry)}\n`);
  }

  async close(): Promise<void> {
    if (this.stream.closed) return;
    await new Promise<void>((resolve) => this.stream.end(resolve));
  }
}
