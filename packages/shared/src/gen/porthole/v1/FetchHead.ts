// Original file: proto/porthole/v1/porthole.proto

import type { Header as _porthole_v1_Header, Header__Output as _porthole_v1_Header__Output } from '../../porthole/v1/Header.js';
import type { Long } from '@grpc/proto-loader';

export interface FetchHead {
  'status'?: (number);
  'statusText'?: (string);
  'headers'?: (_porthole_v1_Header)[];
  /**
   * The URL of the last hop after redirects the host followed.
   */
  'finalUrl'?: (string);
  /**
   * Number of redirects followed.
   */
  'redirects'?: (number);
  /**
   * From the upstream's content-length; -1 when unknown.
   */
  'contentLength'?: (number | string | Long);
}

export interface FetchHead__Output {
  'status': (number);
  'statusText': (string);
  'headers': (_porthole_v1_Header__Output)[];
  /**
   * The URL of the last hop after redirects the host followed.
   */
  'finalUrl': (string);
  /**
   * Number of redirects followed.
   */
  'redirects': (number);
  /**
   * From the upstream's content-length; -1 when unknown.
   */
  'contentLength': (number);
}
