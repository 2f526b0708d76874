// Original file: proto/porthole/v1/porthole.proto

import type { Long } from '@grpc/proto-loader';

export interface ReadArtifactRequest {
  'name'?: (string);
  /**
   * First byte to read; equal to the size reads nothing, past it is refused.
   */
  'offset'?: (number | string | Long);
  /**
   * Bytes to read from offset; absent reads to the end, 0 reads nothing.
   * A range past the end is cut at the end.
   */
  'length'?: (number | string | Long);
  '_length'?: "length";
}

export interface ReadArtifactRequest__Output {
  'name': (string);
  /**
   * First byte to read; equal to the size reads nothing, past it is refused.
   */
  'offset': (number);
  /**
   * Bytes to read from offset; absent reads to the end, 0 reads nothing.
   * A range past the end is cut at the end.
   */
  'length'?: (number);
  '_length'?: "length";
}
