// The durable-write baseline: what an output costs the disk, with no
// network: temporary file, 64 KiB writes, fsync, rename, folder fsync.
import { constants } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';

import { timeTransfer } from '../lib/closed-loop.mjs';

const CHUNK = Buffer.alloc(64 * 1024, 3);

export function fileWrite({ dir, bytes }) {
  return timeTransfer(bytes, async () => {
    const tmp = join(dir, `.tmp-${process.pid}`);
    const handle = await open(tmp, 'w', 0o640);
    let written = 0;
    try {
      while (written < bytes) {
        const data = CHUNK.subarray(0, Math.min(CHUNK.length, bytes - written));
        await handle.write(data);
        written += data.length;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, join(dir, 'raw-output.bin'));
    const folder = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    await folder.sync();
    await folder.close();
    return written;
  });
}
