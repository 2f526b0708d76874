import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

import { PortholeError } from '@porthole/shared';

export interface ArtifactEntry {
  name: string;
  size: number;
  modifiedMs: number;
}

/** An artifact opened for reading, pinned to the file that was checked. */
export interface OpenArtifact {
  handle: FileHandle;
  stats: Stats;
  sha256(): Promise<string>;
}

// Hashes are kept for this many distinct files; a bigger folder re-hashes.
const HASH_CACHE_ENTRIES = 1024;
const NAME_MAX_BYTES = 255;

/**
 * A read-only folder of artifacts. Only regular files directly inside it are
 * artifacts; names are compared with the listing, never joined as paths
 * with anything the guest sends beyond one plain entry name.
 */
export class ArtifactStore {
  // Made on the first hash: an idle sandbox holds no map.
  private hashes: Map<string, Promise<string>> | undefined;

  constructor(private readonly dir: string) {}

  async list(): Promise<ArtifactEntry[]> {
    const entries = await readdir(this.dir, { withFileTypes: true });
    const files = entries.filter((e) => e.isFile() && isArtifactName(e.name));
    const listed = await Promise.all(files.map(async (e) => {
      const opened = await this.tryOpen(e.name);
      if (!opened) return undefined;
      await opened.handle.close();
      return { name: e.name, size: opened.stats.size, modifiedMs: Math.floor(opened.stats.mtimeMs) };
    }));
    return listed.filter((e) => e !== undefined).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /** Opens one artifact by name, or throws NOT_FOUND / INVALID_ARGUMENT. */
  async open(name: string): Promise<OpenArtifact> {
    if (!isArtifactName(name)) {
      throw new PortholeError('INVALID_ARGUMENT', `name ${JSON.stringify(name.slice(0, 200))} is not an artifact name: names are single entries from ListArtifacts`, { field: 'name' });
    }
    const opened = await this.tryOpen(name);
    if (!opened) throw new PortholeError('NOT_FOUND', `no artifact named ${JSON.stringify(name)}`, { field: 'name' });
    const key = `${opened.stats.dev}:${opened.stats.ino}:${opened.stats.size}:${opened.stats.mtimeMs}`;
    return { ...opened, sha256: () => this.hashOf(key, opened.handle, opened.stats.size) };
  }

  // O_NOFOLLOW refuses a symlink planted in the folder; a file with other
  // hard links may be someone else's file reached from here, so it is not
  // an artifact either. Both look like "no such artifact" to the guest.
  private async tryOpen(name: string): Promise<{ handle: FileHandle; stats: Stats } | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(join(this.dir, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    const stats = await handle.stat();
    if (!stats.isFile() || stats.nlink > 1) {
      await handle.close();
      return undefined;
    }
    return { handle, stats };
  }

  private hashOf(key: string, handle: FileHandle, size: number): Promise<string> {
    const hashes = (this.hashes ??= new Map());
    let hash = hashes.get(key);
    if (!hash) {
      if (hashes.size >= HASH_CACHE_ENTRIES) hashes.clear();
      hash = hashFile(handle, size);
      hashes.set(key, hash);
      hash.catch(() => hashes.delete(key));
    }
    return hash;
  }
}

async function hashFile(handle: FileHandle, size: number): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  for (let position = 0; position < size;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}

function isArtifactName(name: string): boolean {
  return name.length > 0 && Buffer.byteLength(name) <= NAME_MAX_BYTES &&
    !name.startsWith('.') && !/[/\\\0]/.test(name);
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ELOOP' || code === 'ENOTDIR' || code === 'EISDIR';
}
