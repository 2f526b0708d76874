import { MAX_CHUNK_BYTES, PortholeError, type wire } from '@porthole/shared';
import type { ServerWritableStream } from '@grpc/grpc-js';

import type { Sandbox } from '../sandbox/sandbox.js';
import type { CallScope } from './call-scope.js';

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

    for (let position = offset, end = offset + length; position < end;) {
      // The turn covers the work of one chunk, not the wait for the guest
      // to read it: a stalled stream does not hold its sandbox's others.
      const endTurn = await scope.bulkTurn();
      let sent: Promise<void> | undefined;
      try {
        const chunk = Buffer.allocUnsafe(Math.min(MAX_CHUNK_BYTES, end - position));
        const { bytesRead } = await artifact.handle.read(chunk, 0, chunk.length, position);
        if (bytesRead === 0) {
          throw new PortholeError('UNAVAILABLE', `artifact ${JSON.stringify(name)} shrank while it was read`);
        }
        position += bytesRead;
        await scope.pace(bytesRead, 'out');
        sent = scope.send(call, { chunk: chunk.subarray(0, bytesRead) });
      } finally {
        endTurn();
      }
      await sent;
    }
  } finally {
    await artifact.handle.close();
  }
}
