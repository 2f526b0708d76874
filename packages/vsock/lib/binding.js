// Loads the compiled addon lazily, remembering why it is missing so every call can say so.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { VsockUnavailableError } from './errors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let cached;

function load() {
  if (process.platform !== 'linux') return { reason: `AF_VSOCK exists only on Linux (platform is ${process.platform})` };
  // PORTHOLE_VSOCK_ADDON lets tests point at a missing file to exercise this path.
  const path = process.env.PORTHOLE_VSOCK_ADDON || join(root, 'build', 'Release', 'porthole_vsock.node');
  if (!existsSync(path)) {
    const marker = join(root, 'build', 'unavailable.txt');
    const why = existsSync(marker) ? readFileSync(marker, 'utf8').trim() : 'run `npm rebuild @porthole/vsock`';
    return { reason: `native addon not built at ${path} (${why})` };
  }
  try {
    return { native: createRequire(import.meta.url)(path) };
  } catch (e) {
    return { reason: `native addon failed to load: ${e.message}`, cause: e };
  }
}

export function binding() {
  cached ??= load();
  if (!cached.native) throw new VsockUnavailableError(cached.reason, cached.cause);
  return cached.native;
}

export function availability() {
  cached ??= load();
  return cached.native ? { available: true } : { available: false, reason: cached.reason };
}
