// Original file: proto/porthole/v1/porthole.proto

import type { ArtifactHead as _porthole_v1_ArtifactHead, ArtifactHead__Output as _porthole_v1_ArtifactHead__Output } from '../../porthole/v1/ArtifactHead.js';

export interface ReadArtifactResponse {
  'head'?: (_porthole_v1_ArtifactHead | null);
  'chunk'?: (Buffer | Uint8Array | string);
  'part'?: "head"|"chunk";
}

export interface ReadArtifactResponse__Output {
  'head'?: (_porthole_v1_ArtifactHead__Output | null);
  'chunk'?: (Buffer);
  'part'?: "head"|"chunk";
}
