// Original file: proto/porthole/v1/porthole.proto

import type { Long } from '@grpc/proto-loader';

export interface ArtifactInfo {
  'name'?: (string);
  'size'?: (number | string | Long);
  /**
   * Milliseconds since the epoch.
   */
  'modifiedMs'?: (number | string | Long);
}

export interface ArtifactInfo__Output {
  'name': (string);
  'size': (number);
  /**
   * Milliseconds since the epoch.
   */
  'modifiedMs': (number);
}
