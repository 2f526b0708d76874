import { MAX_CHUNK_BYTES, PortholeError, type wire } from '@porthole/shared';
import type { ServerWritableStream } from '@grpc/grpc-js';

import { BlockReader } from '../artifacts/block-reader.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { CallScope } from './call-scope.js';

// Files are read in blocks of several chunks, one block ahead of the
// network (see BlockReader): a quarter of the thread-pool round trips,
// for at most two blocks (512 KiB) held per call.
const READ_BLOCK_BYTES = 4 * MAX_CHUNK_BYTES;

type ReadCall = ServerWritableStream<wire.ReadArtifactRequest, wire.ReadArtifactResponse>;

/** Streams a range of one artifact: its head, then chunks in order. */
export async function readArtifact(sandbox: Sandbox, scope: CallScope, call: ReadCall): Promise<void> {
  const { name, offset } = call.request;
  scope.target = name;
  if (!sandbox.artifacts) {
    throw new PortholeError('POLICY_DENIED', `artifacts are not enabled for sandbox ${sandbox.id}`);
  }

  const artifact = await sandbox.artifacts.open(name);
  try {
    const { size } = artifact.stats;
    if (offset > size) {
      throw new PortholeError('INVALID_ARGUMENT', `offset ${offset} is past the end of ${JSON.stringify(name)} (${size} bytes)`, { field: 'offset', limit: size });
    }
    const length = Math.min(call.request.length ?? size - offset, size - offset);
    const sha256 = await artifact.sha256();
    await scope.send(call, { head: { name, size, sha256, offset, length } });

    const reader = new BlockReader(artifact.handle, offset, offset + length, READ_BLOCK_BYTES, name);
    try {
      for (let block = await reader.read(); block; block = await reader.read()) {
        for (let at = 0; at < block.length; at += MAX_CHUNK_BYTES) {
          const chunk = block.subarray(at, at + MAX_CHUNK_BYTES);
          await scope.pace(chunk.length, 'out');
          await scope.send(call, { chunk });
        }
      }
    } finally {
      await reader.settle();
    }
  } finally {
    await artifact.handle.close();
  }
}
