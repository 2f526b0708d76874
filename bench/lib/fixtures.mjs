// The bench's files: a temporary folder with artifacts, outputs folders and
// generated host configs. Nothing outside it is written.
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MiB = 1024 * 1024;

/**
 * Limits high enough that the bench measures overhead, not policy. The
 * byte rate is far above any figure, the request rate and burst likewise.
 */
export const GENEROUS_LIMITS = {
  requestsPerSecond: 1_000_000,
  burst: 1_000_000,
  maxConcurrent: 256,
  bytesPerSecond: 2 ** 40,
};

/**
 * The README's example limits: what a flooding neighbour runs under. Keep
 * them equal to the README's; docs/host-operations.md says how they were
 * sized for a host of this class.
 */
export const README_LIMITS = {
  requestsPerSecond: 50,
  burst: 100,
  maxConcurrent: 16,
  bytesPerSecond: 32 * MiB,
};

export async function benchDir() {
  const path = await mkdtemp(join(tmpdir(), 'porthole-bench-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A file of `bytes` in 1 MiB writes, not all one byte value. */
export async function makeFile(path, bytes) {
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  const handle = await open(path, 'w');
  try {
    for (let written = 0; written < bytes; written += block.length) {
      await handle.write(block, 0, Math.min(block.length, bytes - written));
    }
  } finally {
    await handle.close();
  }
}

/** One sandbox entry, folders relative to the config's folder. */
export function sandboxEntry(id, { originPort, limits = GENEROUS_LIMITS, artifacts = `${id}/artifacts` } = {}) {
  return {
    id,
    listen: { udsPath: `run/${id}.vsock`, port: 52 },
    artifacts,
    outputs: { dir: `${id}/outputs`, maxBytes: 2 ** 36, maxFiles: 10_000, maxFileBytes: 2 ** 30 },
    ...(originPort ? { fetch: { allow: [{ scheme: 'http', host: '127.0.0.1', port: originPort }], maxResponseBytes: 64 * MiB } } : {}),
    limits,
  };
}

/** Writes a host config (JSON is YAML) and creates the folders it names. */
export async function writeHostConfig(dir, name, sandboxes) {
  for (const sandbox of sandboxes) await mkdir(join(dir, sandbox.artifacts), { recursive: true });
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, JSON.stringify({ audit: { path: `${name}-audit.jsonl` }, logLevel: 'info', sandboxes }, null, 1));
  return file;
}

/** Where the host listens for a sandbox entry: `<udsPath>_<port>`. */
export function socketOf(dir, sandbox) {
  return join(dir, `${sandbox.listen.udsPath}_${sandbox.listen.port}`);
}
