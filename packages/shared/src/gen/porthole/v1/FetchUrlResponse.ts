// Original file: proto/porthole/v1/porthole.proto

import type { FetchHead as _porthole_v1_FetchHead, FetchHead__Output as _porthole_v1_FetchHead__Output } from '../../porthole/v1/FetchHead.js';

export interface FetchUrlResponse {
  'head'?: (_porthole_v1_FetchHead | null);
  'chunk'?: (Buffer | Uint8Array | string);
  'part'?: "head"|"chunk";
}

export interface FetchUrlResponse__Output {
  'head'?: (_porthole_v1_FetchHead__Output | null);
  'chunk'?: (Buffer);
  'part'?: "head"|"chunk";
}
