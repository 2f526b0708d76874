// Original file: proto/porthole/v1/porthole.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The last message of a write. A cancelled or broken stream can look like
 * a finished one to the host; only this message says the guest sent all
 * it meant to, so without it nothing is stored.
 */
export interface OutputEnd {
  /**
   * Bytes sent in chunks; a write of any other size is refused.
   */
  'size'?: (number | string | Long);
  /**
   * Hex sha256 of the content, checked when set.
   */
  'sha256'?: (string);
}

/**
 * The last message of a write. A cancelled or broken stream can look like
 * a finished one to the host; only this message says the guest sent all
 * it meant to, so without it nothing is stored.
 */
export interface OutputEnd__Output {
  /**
   * Bytes sent in chunks; a write of any other size is refused.
   */
  'size': (number);
  /**
   * Hex sha256 of the content, checked when set.
   */
  'sha256': (string);
}
