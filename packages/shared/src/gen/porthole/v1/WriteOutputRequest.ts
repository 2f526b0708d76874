// Original file: proto/porthole/v1/porthole.proto

import type { OutputHead as _porthole_v1_OutputHead, OutputHead__Output as _porthole_v1_OutputHead__Output } from '../../porthole/v1/OutputHead.js';
import type { OutputEnd as _porthole_v1_OutputEnd, OutputEnd__Output as _porthole_v1_OutputEnd__Output } from '../../porthole/v1/OutputEnd.js';

export interface WriteOutputRequest {
  'head'?: (_porthole_v1_OutputHead | null);
  'chunk'?: (Buffer | Uint8Array | string);
  'end'?: (_porthole_v1_OutputEnd | null);
  'part'?: "head"|"chunk"|"end";
}

export interface WriteOutputRequest__Output {
  'head'?: (_porthole_v1_OutputHead__Output | null);
  'chunk'?: (Buffer);
  'end'?: (_porthole_v1_OutputEnd__Output | null);
  'part'?: "head"|"chunk"|"end";
}
