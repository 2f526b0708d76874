import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

import {
  IDEMPOTENCY_KEY_MAX_LENGTH,
  outputNameProblem,
  PortholeError,
  type OutputsPolicy,
} from '@porthole/shared';

import { SerialQueue } from '../serial-queue.js';

/** Mode of every output file, whatever the guest or the umask would say. */
export const OUTPUT_FILE_MODE = 0o640;

// Host bookkeeping lives beside the outputs under a dot-name, which no
// output name can take.
const STATE_DIR = '.porthole';

// A long write re-checks the disk's free space this often.
const FREE_SPACE_CHECK_BYTES = 8 * 1024 * 1024;

// Idempotency records kept per sandbox. The SDK sends a key with every
// write, so without a bound they would grow with every write ever made,
// outside the sandbox's quota. Past the bound the oldest quarter goes: a
// retry of one of those writes stores its output again, as a first write.
export const KEY_RECORDS_MAX = 1024;

export interface OutputHeadIn {
  name: string;
  expectedSize?: number;
  idempotencyKey: string;
}

export interface StoredOutput {
  name: string;
  size: number;
  sha256: string;
  replayed: boolean;
}

export interface OutputUsage {
  bytes: number;
  files: number;
}

/**
 * One sandbox's outputs folder: quotas, atomic commits (temporary file,
 * fsync, rename, folder fsync) and idempotent retries.
 */
export class OutputStore {
  private readonly commits = new SerialQueue();
  private usage: OutputUsage = { bytes: 0, files: 0 };
  /** Stored names by their lower-case form, to refuse case-only twins. */
  private readonly folded = new Map<string, string>();
  private reservedBytes = 0;
  private pending = 0;
  private nextTmp = 0;
  private keyRecords = 0;

  constructor(private current: OutputsPolicy, private readonly keyRecordsMax = KEY_RECORDS_MAX) {}

  get policy(): OutputsPolicy {
    return this.current;
  }

  // Worked out when used rather than held by each of many idle stores.
  private get tmpDir(): string {
    return join(this.current.dir, STATE_DIR, 'tmp');
  }

  private get keysDir(): string {
    return join(this.current.dir, STATE_DIR, 'keys');
  }

  /**
   * Applies reloaded quotas to the same folder: writes in progress keep
   * their reservations and are checked against the new bounds from here.
   */
  reconfigure(policy: OutputsPolicy): this {
    if (policy.dir !== this.current.dir) throw new Error('an outputs store cannot move to another folder');
    this.current = policy;
    return this;
  }

  /** Prepares the folders, drops temporaries a crash left, counts usage. */
  async open(): Promise<void> {
    await mkdir(this.policy.dir, { recursive: true, mode: 0o750 });
    await checkOwnFolder(this.policy.dir);
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
    await mkdir(this.keysDir, { recursive: true, mode: 0o700 });
    this.keyRecords = (await readdir(this.keysDir)).length;

    const usage = { bytes: 0, files: 0 };
    for (const entry of await readdir(this.policy.dir, { withFileTypes: true })) {
      if (!entry.isFile() || entry.name.startsWith('.')) continue;
      usage.bytes += (await lstat(join(this.policy.dir, entry.name))).size;
      usage.files += 1;
      this.folded.set(entry.name.toLowerCase(), entry.name);
    }
    this.usage = usage;
  }

  get used(): OutputUsage {
    return { ...this.usage };
  }

  /** Validates a head and starts a write, or throws naming the bad field. */
  async begin(head: OutputHeadIn): Promise<OutputWrite> {
    const problem = outputNameProblem(head.name);
    if (problem) {
      throw new PortholeError('INVALID_ARGUMENT', `output name ${JSON.stringify(head.name.slice(0, 200))} ${problem}`, { field: 'head.name' });
    }
    if (head.idempotencyKey.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
      throw new PortholeError('INVALID_ARGUMENT', `idempotency key is ${head.idempotencyKey.length} characters, at most ${IDEMPOTENCY_KEY_MAX_LENGTH}`, { field: 'head.idempotency_key', limit: IDEMPOTENCY_KEY_MAX_LENGTH });
    }
    this.checkCase(head.name);
    const { maxFileBytes, maxFiles } = this.policy;
    if (head.expectedSize !== undefined && head.expectedSize > maxFileBytes) {
      throw new PortholeError('TOO_LARGE', `expected size ${head.expectedSize} is over the ${maxFileBytes}-byte limit for one output`, { field: 'head.expected_size', limit: maxFileBytes });
    }
    if (this.usage.files + this.pending >= maxFiles && !(await this.exists(head.name))) {
      throw new PortholeError('QUOTA_EXCEEDED', `the sandbox holds ${this.usage.files} outputs and ${this.pending} more are being written, the limit is ${maxFiles}`, { field: 'head.name', limit: maxFiles });
    }

    await this.checkFreeSpace();

    const tmpPath = join(this.tmpDir, `${process.pid}-${this.nextTmp++}`);
    // O_EXCL|O_NOFOLLOW: the host creates this file and nothing else.
    const handle = await open(tmpPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, OUTPUT_FILE_MODE);
    await handle.chmod(OUTPUT_FILE_MODE);
    this.pending++;
    return new OutputWrite(this, head, handle, tmpPath);
  }

  /** @internal Reserves quota for `count` more bytes of a write in progress. */
  reserve(count: number, sizeSoFar: number, expectedSize: number | undefined): void {
    const { maxBytes, maxFileBytes } = this.policy;
    const size = sizeSoFar + count;
    if (size > maxFileBytes) {
      throw new PortholeError('TOO_LARGE', `output is over the ${maxFileBytes}-byte limit for one output`, { limit: maxFileBytes });
    }
    if (expectedSize !== undefined && size > expectedSize) {
      throw new PortholeError('INVALID_ARGUMENT', `more than the expected ${expectedSize} bytes were sent`, { field: 'head.expected_size' });
    }
    if (this.usage.bytes + this.reservedBytes + count > maxBytes) {
      throw new PortholeError('QUOTA_EXCEEDED', `outputs would exceed the sandbox's ${maxBytes}-byte quota (${this.usage.bytes} bytes stored)`, { limit: maxBytes });
    }
    this.reservedBytes += count;
  }

  /** @internal Moves a finished temporary file into place, atomically. */
  commit(write: OutputWrite, size: number, sha256: string): Promise<StoredOutput> {
    return this.commits.run(async () => {
      const { name, idempotencyKey } = write.head;
      const keyPath = idempotencyKey ? join(this.keysDir, createHash('sha256').update(idempotencyKey).digest('hex')) : undefined;
      const earlier = keyPath ? await readRecord(keyPath) : undefined;
      if (earlier) {
        if (earlier.name !== name || earlier.sha256 !== sha256) {
          throw new PortholeError('INVALID_ARGUMENT', `idempotency key was already used for output ${JSON.stringify(earlier.name)} with other content`, { field: 'head.idempotency_key' });
        }
        if (await this.holds(earlier)) return { ...earlier, replayed: true };
      }

      this.checkCase(name);
      const finalPath = join(this.policy.dir, name);
      const previous = await sizeOf(finalPath);
      if (previous === undefined && this.usage.files >= this.policy.maxFiles) {
        throw new PortholeError('QUOTA_EXCEEDED', `the sandbox holds ${this.usage.files} outputs, the limit is ${this.policy.maxFiles}`, { limit: this.policy.maxFiles });
      }
      await rename(write.tmpPath, finalPath);
      await fsyncDir(this.policy.dir);
      this.usage.bytes += size - (previous ?? 0);
      this.usage.files += previous === undefined ? 1 : 0;
      this.folded.set(name.toLowerCase(), name);

      const stored = { name, size, sha256 };
      // After the rename: a crash in between costs a retry one more write of
      // the same content, never a record pointing at nothing.
      if (keyPath) {
        await writeRecord(keyPath, stored);
        if (!earlier && ++this.keyRecords > this.keyRecordsMax) await this.dropOldestKeys();
      }
      return { ...stored, replayed: false };
    });
  }

  // Runs inside a commit, so no record is read or written meanwhile.
  private async dropOldestKeys(): Promise<void> {
    const records = await Promise.all((await readdir(this.keysDir)).map(async (name) => {
      const path = join(this.keysDir, name);
      return { path, mtimeMs: (await lstat(path)).mtimeMs };
    }));
    records.sort((a, b) => a.mtimeMs - b.mtimeMs);
    const drop = records.slice(0, records.length - Math.floor(this.keyRecordsMax * 0.75));
    for (const { path } of drop) await unlink(path).catch(() => undefined);
    this.keyRecords = records.length - drop.length;
  }

  /**
   * Throws QUOTA_EXCEEDED when the disk is below the free-space floor.
   * Called when a write starts and again every FREE_SPACE_CHECK_BYTES.
   */
  async checkFreeSpace(): Promise<void> {
    const fs = await statfs(this.policy.dir);
    const free = fs.bavail * fs.bsize;
    if (free < this.policy.minFreeBytes) {
      throw new PortholeError('QUOTA_EXCEEDED', `the host disk holding outputs has ${free} bytes free, below the ${this.policy.minFreeBytes}-byte floor`, { limit: this.policy.minFreeBytes });
    }
  }

  // Two names that differ only in case are one file on case-insensitive
  // systems the outputs may be copied to.
  private checkCase(name: string): void {
    const twin = this.folded.get(name.toLowerCase());
    if (twin !== undefined && twin !== name) {
      throw new PortholeError('INVALID_ARGUMENT', `output name ${JSON.stringify(name)} differs only in case from the stored output ${JSON.stringify(twin)}`, { field: 'head.name' });
    }
  }

  /** @internal Gives back a finished or aborted write's reservation. */
  settle(reserved: number): void {
    this.reservedBytes -= reserved;
    this.pending--;
  }

  private async exists(name: string): Promise<boolean> {
    return (await sizeOf(join(this.policy.dir, name))) !== undefined;
  }

  private async holds(record: { name: string; size: number }): Promise<boolean> {
    return (await sizeOf(join(this.policy.dir, record.name))) === record.size;
  }
}

/** One output being written: chunks go to a temporary file, hashed as they pass. */
export class OutputWrite {
  private readonly hash = createHash('sha256');
  private size = 0;
  private done = false;

  constructor(
    private readonly store: OutputStore,
    readonly head: OutputHeadIn,
    private readonly handle: FileHandle,
    readonly tmpPath: string,
  ) {}

  async append(chunk: Uint8Array): Promise<void> {
    this.store.reserve(chunk.length, this.size, this.head.expectedSize);
    if (Math.floor((this.size + chunk.length) / FREE_SPACE_CHECK_BYTES) > Math.floor(this.size / FREE_SPACE_CHECK_BYTES)) {
      await this.store.checkFreeSpace();
    }
    this.size += chunk.length;
    this.hash.update(chunk);
    await this.handle.write(chunk);
  }

  /** Makes the output durable and visible; the reply may be sent after this. */
  async finish(end: { size: number; sha256: string }, abandoned: () => boolean = () => false): Promise<StoredOutput> {
    const { expectedSize } = this.head;
    if (expectedSize !== undefined && this.size !== expectedSize) {
      throw new PortholeError('INVALID_ARGUMENT', `${this.size} bytes were sent, the head expected ${expectedSize}`, { field: 'head.expected_size' });
    }
    if (end.size !== this.size) {
      throw new PortholeError('INVALID_ARGUMENT', `${this.size} bytes were sent, the end says ${end.size}`, { field: 'end.size' });
    }
    const sha256 = this.hash.digest('hex');
    if (end.sha256 !== '' && end.sha256.toLowerCase() !== sha256) {
      throw new PortholeError('INVALID_ARGUMENT', `the content's sha256 is ${sha256}, the end says ${end.sha256.slice(0, 64)}`, { field: 'end.sha256' });
    }
    await this.handle.sync();
    await this.handle.close();
    // Asked again at the last moment before the output becomes visible.
    if (abandoned()) throw new PortholeError('UNAVAILABLE', 'the guest went away before the output was complete');
    const stored = await this.store.commit(this, this.size, sha256);
    this.release();
    if (stored.replayed) await unlink(this.tmpPath).catch(() => undefined);
    return stored;
  }

  /** Drops the temporary file; safe to call after finish or twice. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.release();
    await this.handle.close().catch(() => undefined);
    await unlink(this.tmpPath).catch(() => undefined);
  }

  private release(): void {
    if (this.done) return;
    this.done = true;
    this.store.settle(this.size);
  }
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    const stats = await lstat(path);
    return stats.isFile() ? stats.size : undefined;
  } catch {
    return undefined;
  }
}

// The outputs folder must be the host's alone: anyone else able to write
// there could plant links or files the host would then treat as outputs.
export async function checkOwnFolder(dir: string): Promise<void> {
  const info = await stat(dir);
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw new Error(`outputs folder ${dir} belongs to uid ${info.uid}, not to the host's uid ${uid}`);
  }
  if ((info.mode & 0o022) !== 0) {
    throw new Error(`outputs folder ${dir} is writable by group or others (mode ${(info.mode & 0o777).toString(8)})`);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readRecord(path: string): Promise<{ name: string; size: number; sha256: string } | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}

async function writeRecord(path: string, record: object): Promise<void> {
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(record));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  await fsyncDir(join(path, '..'));
}
