// Original file: proto/porthole/v1/porthole.proto

import type { Long } from '@grpc/proto-loader';

export interface ArtifactHead {
  'name'?: (string);
  'size'?: (number | string | Long);
  /**
   * Hex sha256 of the whole artifact, whatever range is read.
   */
  'sha256'?: (string);
  'offset'?: (number | string | Long);
  /**
   * Bytes that follow in chunks.
   */
  'length'?: (number | string | Long);
}

export interface ArtifactHead__Output {
  'name': (string);
  'size': (number);
  /**
   * Hex sha256 of the whole artifact, whatever range is read.
   */
  'sha256': (string);
  'offset': (number);
  /**
   * Bytes that follow in chunks.
   */
  'length': (number);
}
