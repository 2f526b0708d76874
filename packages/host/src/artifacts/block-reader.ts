import type { FileHandle } from 'node:fs/promises';

import { PortholeError } from '@porthole/shared';

/**
 * Reads a byte range of an open file in blocks, keeping the next block's
 * read in flight while the caller sends the current one: the thread-pool
 * round trip of a read then overlaps the network writes instead of
 * adding to them. At most two blocks per reader are held.
 */
export class BlockReader {
  private next: Promise<Buffer> | undefined;
  private position: number;

  constructor(
    private readonly handle: FileHandle,
    start: number,
    private readonly end: number,
    private readonly blockBytes: number,
    private readonly name: string,
  ) {
    this.position = start;
    this.next = this.readAhead();
  }

  /** The next block, or undefined once the range is done. */
  async read(): Promise<Buffer | undefined> {
    const pending = this.next;
    if (!pending) return undefined;
    const block = await pending;
    this.next = this.readAhead();
    return block;
  }

  /** Waits for a read still in flight, so the file can be closed after it. */
  async settle(): Promise<void> {
    const pending = this.next;
    this.next = undefined;
    await pending?.catch(() => undefined);
  }

  private readAhead(): Promise<Buffer> | undefined {
    if (this.position >= this.end) return undefined;
    const at = this.position;
    const length = Math.min(this.blockBytes, this.end - at);
    this.position += length;
    const promise = this.handle.read(Buffer.allocUnsafe(length), 0, length, at).then(({ bytesRead, buffer }) => {
      // A regular file reads short only at its end: it shrank after the
      // head announced its size.
      if (bytesRead !== length) {
        throw new PortholeError('UNAVAILABLE', `artifact ${JSON.stringify(this.name)} shrank while it was read`);
      }
      return buffer;
    });
    // Failures surface from read(); this keeps a prefetched block that is
    // never awaited (the call ended first) from becoming unhandled.
    promise.catch(() => undefined);
    return promise;
  }
}
