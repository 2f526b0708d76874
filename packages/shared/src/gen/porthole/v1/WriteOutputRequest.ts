// Original file: proto/porthole/v1/porthole.proto

import type { OutputHead as _porthole_v1_OutputHead, OutputHead__Output as _porthole_v1_OutputHead__Output } from '../../porthole/v1/OutputHead.js';

export interface WriteOutputRequest {
  'head'?: (_porthole_v1_OutputHead | null);
  'chunk'?: (Buffer | Uint8Array | string);
  'part'?: "head"|"chunk";
}

export interface WriteOutputRequest__Output {
  'head'?: (_porthole_v1_OutputHead__Output | null);
  'chunk'?: (Buffer);
  'part'?: "head"|"chunk";
}
