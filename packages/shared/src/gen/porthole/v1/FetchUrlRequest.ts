// Original file: proto/porthole/v1/porthole.proto

import type { Header as _porthole_v1_Header, Header__Output as _porthole_v1_Header__Output } from '../../porthole/v1/Header.js';

export interface FetchUrlRequest {
  /**
   * GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS; empty means GET.
   */
  'method'?: (string);
  /**
   * Absolute http or https URL.
   */
  'url'?: (string);
  'headers'?: (_porthole_v1_Header)[];
  /**
   * At most Limits.max_request_body_bytes; refused with GET and HEAD.
   */
  'body'?: (Buffer | Uint8Array | string);
  /**
   * Shorter than the policy's timeout, or 0 for the policy's timeout.
   */
  'timeoutMs'?: (number);
}

export interface FetchUrlRequest__Output {
  /**
   * GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS; empty means GET.
   */
  'method': (string);
  /**
   * Absolute http or https URL.
   */
  'url': (string);
  'headers': (_porthole_v1_Header__Output)[];
  /**
   * At most Limits.max_request_body_bytes; refused with GET and HEAD.
   */
  'body': (Buffer);
  /**
   * Shorter than the policy's timeout, or 0 for the policy's timeout.
   */
  'timeoutMs': (number);
}
