import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { ArtifactHead as _porthole_v1_ArtifactHead, ArtifactHead__Output as _porthole_v1_ArtifactHead__Output } from './porthole/v1/ArtifactHead.js';
import type { ArtifactInfo as _porthole_v1_ArtifactInfo, ArtifactInfo__Output as _porthole_v1_ArtifactInfo__Output } from './porthole/v1/ArtifactInfo.js';
import type { FetchHead as _porthole_v1_FetchHead, FetchHead__Output as _porthole_v1_FetchHead__Output } from './porthole/v1/FetchHead.js';
import type { FetchUrlRequest as _porthole_v1_FetchUrlRequest, FetchUrlRequest__Output as _porthole_v1_FetchUrlRequest__Output } from './porthole/v1/FetchUrlRequest.js';
import type { FetchUrlResponse as _porthole_v1_FetchUrlResponse, FetchUrlResponse__Output as _porthole_v1_FetchUrlResponse__Output } from './porthole/v1/FetchUrlResponse.js';
import type { Header as _porthole_v1_Header, Header__Output as _porthole_v1_Header__Output } from './porthole/v1/Header.js';
import type { HelloRequest as _porthole_v1_HelloRequest, HelloRequest__Output as _porthole_v1_HelloRequest__Output } from './porthole/v1/HelloRequest.js';
import type { HelloResponse as _porthole_v1_HelloResponse, HelloResponse__Output as _porthole_v1_HelloResponse__Output } from './porthole/v1/HelloResponse.js';
import type { Limits as _porthole_v1_Limits, Limits__Output as _porthole_v1_Limits__Output } from './porthole/v1/Limits.js';
import type { ListArtifactsRequest as _porthole_v1_ListArtifactsRequest, ListArtifactsRequest__Output as _porthole_v1_ListArtifactsRequest__Output } from './porthole/v1/ListArtifactsRequest.js';
import type { ListArtifactsResponse as _porthole_v1_ListArtifactsResponse, ListArtifactsResponse__Output as _porthole_v1_ListArtifactsResponse__Output } from './porthole/v1/ListArtifactsResponse.js';
import type { OutputEnd as _porthole_v1_OutputEnd, OutputEnd__Output as _porthole_v1_OutputEnd__Output } from './porthole/v1/OutputEnd.js';
import type { OutputHead as _porthole_v1_OutputHead, OutputHead__Output as _porthole_v1_OutputHead__Output } from './porthole/v1/OutputHead.js';
import type { PortholeClient as _porthole_v1_PortholeClient, PortholeDefinition as _porthole_v1_PortholeDefinition } from './porthole/v1/Porthole.js';
import type { ReadArtifactRequest as _porthole_v1_ReadArtifactRequest, ReadArtifactRequest__Output as _porthole_v1_ReadArtifactRequest__Output } from './porthole/v1/ReadArtifactRequest.js';
import type { ReadArtifactResponse as _porthole_v1_ReadArtifactResponse, ReadArtifactResponse__Output as _porthole_v1_ReadArtifactResponse__Output } from './porthole/v1/ReadArtifactResponse.js';
import type { WriteOutputRequest as _porthole_v1_WriteOutputRequest, WriteOutputRequest__Output as _porthole_v1_WriteOutputRequest__Output } from './porthole/v1/WriteOutputRequest.js';
import type { WriteOutputResponse as _porthole_v1_WriteOutputResponse, WriteOutputResponse__Output as _porthole_v1_WriteOutputResponse__Output } from './porthole/v1/WriteOutputResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  porthole: {
    v1: {
      Action: EnumTypeDefinition
      ArtifactHead: MessageTypeDefinition<_porthole_v1_ArtifactHead, _porthole_v1_ArtifactHead__Output>
      ArtifactInfo: MessageTypeDefinition<_porthole_v1_ArtifactInfo, _porthole_v1_ArtifactInfo__Output>
      FetchHead: MessageTypeDefinition<_porthole_v1_FetchHead, _porthole_v1_FetchHead__Output>
      FetchUrlRequest: MessageTypeDefinition<_porthole_v1_FetchUrlRequest, _porthole_v1_FetchUrlRequest__Output>
      FetchUrlResponse: MessageTypeDefinition<_porthole_v1_FetchUrlResponse, _porthole_v1_FetchUrlResponse__Output>
      Header: MessageTypeDefinition<_porthole_v1_Header, _porthole_v1_Header__Output>
      HelloRequest: MessageTypeDefinition<_porthole_v1_HelloRequest, _porthole_v1_HelloRequest__Output>
      HelloResponse: MessageTypeDefinition<_porthole_v1_HelloResponse, _porthole_v1_HelloResponse__Output>
      Limits: MessageTypeDefinition<_porthole_v1_Limits, _porthole_v1_Limits__Output>
      ListArtifactsRequest: MessageTypeDefinition<_porthole_v1_ListArtifactsRequest, _porthole_v1_ListArtifactsRequest__Output>
      ListArtifactsResponse: MessageTypeDefinition<_porthole_v1_ListArtifactsResponse, _porthole_v1_ListArtifactsResponse__Output>
      OutputEnd: MessageTypeDefinition<_porthole_v1_OutputEnd, _porthole_v1_OutputEnd__Output>
      OutputHead: MessageTypeDefinition<_porthole_v1_OutputHead, _porthole_v1_OutputHead__Output>
      Porthole: SubtypeConstructor<typeof grpc.Client, _porthole_v1_PortholeClient> & { service: _porthole_v1_PortholeDefinition }
      ReadArtifactRequest: MessageTypeDefinition<_porthole_v1_ReadArtifactRequest, _porthole_v1_ReadArtifactRequest__Output>
      ReadArtifactResponse: MessageTypeDefinition<_porthole_v1_ReadArtifactResponse, _porthole_v1_ReadArtifactResponse__Output>
      Reason: EnumTypeDefinition
      WriteOutputRequest: MessageTypeDefinition<_porthole_v1_WriteOutputRequest, _porthole_v1_WriteOutputRequest__Output>
      WriteOutputResponse: MessageTypeDefinition<_porthole_v1_WriteOutputResponse, _porthole_v1_WriteOutputResponse__Output>
    }
  }
}

