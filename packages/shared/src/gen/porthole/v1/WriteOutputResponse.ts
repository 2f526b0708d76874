// Original file: proto/porthole/v1/porthole.proto

import type { Long } from '@grpc/proto-loader';

export interface WriteOutputResponse {
  'name'?: (string);
  'size'?: (number | string | Long);
  'sha256'?: (string);
  /**
   * True when this reply repeats an earlier write with the same key.
   */
  'replayed'?: (boolean);
}

export interface WriteOutputResponse__Output {
  'name': (string);
  'size': (number);
  'sha256': (string);
  /**
   * True when this reply repeats an earlier write with the same key.
   */
  'replayed': (boolean);
}
