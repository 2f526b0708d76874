// Original file: proto/porthole/v1/porthole.proto


export interface ListArtifactsRequest {
}

export interface ListArtifactsRequest__Output {
}
