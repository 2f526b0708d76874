// Original file: proto/porthole/v1/porthole.proto

import type { Long } from '@grpc/proto-loader';

export interface OutputHead {
  /**
   * [A-Za-z0-9._-], 1 to 128 characters, no leading dot. A write to the
   * name of a stored output replaces it, atomically.
   */
  'name'?: (string);
  /**
   * When set, a write of any other size is refused and nothing is stored.
   */
  'expectedSize'?: (number | string | Long);
  'contentType'?: (string);
  /**
   * A retried write with the same key and content stores one output and
   * returns the first reply; the same key with other content is refused.
   */
  'idempotencyKey'?: (string);
  '_expectedSize'?: "expectedSize";
}

export interface OutputHead__Output {
  /**
   * [A-Za-z0-9._-], 1 to 128 characters, no leading dot. A write to the
   * name of a stored output replaces it, atomically.
   */
  'name': (string);
  /**
   * When set, a write of any other size is refused and nothing is stored.
   */
  'expectedSize'?: (number);
  'contentType': (string);
  /**
   * A retried write with the same key and content stores one output and
   * returns the first reply; the same key with other content is refused.
   */
  'idempotencyKey': (string);
  '_expectedSize'?: "expectedSize";
}
