// Original file: proto/porthole/v1/porthole.proto

import type { ArtifactInfo as _porthole_v1_ArtifactInfo, ArtifactInfo__Output as _porthole_v1_ArtifactInfo__Output } from '../../porthole/v1/ArtifactInfo.js';

export interface ListArtifactsResponse {
  'artifacts'?: (_porthole_v1_ArtifactInfo)[];
}

export interface ListArtifactsResponse__Output {
  'artifacts': (_porthole_v1_ArtifactInfo__Output)[];
}
