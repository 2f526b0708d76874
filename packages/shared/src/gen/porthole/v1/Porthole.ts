// Original file: proto/porthole/v1/porthole.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { FetchUrlRequest as _porthole_v1_FetchUrlRequest, FetchUrlRequest__Output as _porthole_v1_FetchUrlRequest__Output } from '../../porthole/v1/FetchUrlRequest.js';
import type { FetchUrlResponse as _porthole_v1_FetchUrlResponse, FetchUrlResponse__Output as _porthole_v1_FetchUrlResponse__Output } from '../../porthole/v1/FetchUrlResponse.js';
import type { HelloRequest as _porthole_v1_HelloRequest, HelloRequest__Output as _porthole_v1_HelloRequest__Output } from '../../porthole/v1/HelloRequest.js';
import type { HelloResponse as _porthole_v1_HelloResponse, HelloResponse__Output as _porthole_v1_HelloResponse__Output } from '../../porthole/v1/HelloResponse.js';
import type { ListArtifactsRequest as _porthole_v1_ListArtifactsRequest, ListArtifactsRequest__Output as _porthole_v1_ListArtifactsRequest__Output } from '../../porthole/v1/ListArtifactsRequest.js';
import type { ListArtifactsResponse as _porthole_v1_ListArtifactsResponse, ListArtifactsResponse__Output as _porthole_v1_ListArtifactsResponse__Output } from '../../porthole/v1/ListArtifactsResponse.js';
import type { ReadArtifactRequest as _porthole_v1_ReadArtifactRequest, ReadArtifactRequest__Output as _porthole_v1_ReadArtifactRequest__Output } from '../../porthole/v1/ReadArtifactRequest.js';
import type { ReadArtifactResponse as _porthole_v1_ReadArtifactResponse, ReadArtifactResponse__Output as _porthole_v1_ReadArtifactResponse__Output } from '../../porthole/v1/ReadArtifactResponse.js';
import type { WriteOutputRequest as _porthole_v1_WriteOutputRequest, WriteOutputRequest__Output as _porthole_v1_WriteOutputRequest__Output } from '../../porthole/v1/WriteOutputRequest.js';
import type { WriteOutputResponse as _porthole_v1_WriteOutputResponse, WriteOutputResponse__Output as _porthole_v1_WriteOutputResponse__Output } from '../../porthole/v1/WriteOutputResponse.js';

export interface PortholeClient extends grpc.Client {
  /**
   * One HTTP exchange carried out by the host under policy. The first
   * message is the head (status, headers, final URL), then body chunks.
   */
  FetchUrl(argument: _porthole_v1_FetchUrlRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_porthole_v1_FetchUrlResponse__Output>;
  FetchUrl(argument: _porthole_v1_FetchUrlRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_porthole_v1_FetchUrlResponse__Output>;
  /**
   * One HTTP exchange carried out by the host under policy. The first
   * message is the head (status, headers, final URL), then body chunks.
   */
  fetchUrl(argument: _porthole_v1_FetchUrlRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_porthole_v1_FetchUrlResponse__Output>;
  fetchUrl(argument: _porthole_v1_FetchUrlRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_porthole_v1_FetchUrlResponse__Output>;
  
  /**
   * Handshake: the guest states what it speaks, the host answers what it
   * sees and enforces. A major version the host does not speak is refused
   * with INVALID_ARGUMENT on field `protocol_major`.
   */
  Hello(argument: _porthole_v1_HelloRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_porthole_v1_HelloResponse__Output>): grpc.ClientUnaryCall;
  Hello(argument: _porthole_v1_HelloRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_porthole_v1_HelloResponse__Output>): grpc.ClientUnaryCall;
  Hello(argument: _porthole_v1_HelloRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_porthole_v1_HelloResponse__Output>): grpc.ClientUnaryCall;
  Hello(argument: _porthole_v1_HelloRequest, callback: grpc.requestCallback<_porthole_v1_HelloResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Handshake: the guest states what it speaks, the host answers what it
   * sees and enforces. A major version the host does not speak is refused
   * with INVALID_ARGUMENT on field `protocol_major`.
   */
  hello(argument: _porthole_v1_HelloRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_porthole_v1_HelloResponse__Output>): grpc.ClientUnaryCall;
  hello(argument: _porthole_v1_HelloRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_porthole_v1_HelloResponse__Output>): grpc.ClientUnaryCall;
  hello(argument: _porthole_v1_HelloRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_porthole_v1_HelloResponse__Output>): grpc.ClientUnaryCall;
  hello(argument: _porthole_v1_HelloRequest, callback: grpc.requestCallback<_porthole_v1_HelloResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The artifacts this sandbox may read, sorted by name.
   */
  ListArtifacts(argument: _porthole_v1_ListArtifactsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_porthole_v1_ListArtifactsResponse__Output>): grpc.ClientUnaryCall;
  ListArtifacts(argument: _porthole_v1_ListArtifactsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_porthole_v1_ListArtifactsResponse__Output>): grpc.ClientUnaryCall;
  ListArtifacts(argument: _porthole_v1_ListArtifactsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_porthole_v1_ListArtifactsResponse__Output>): grpc.ClientUnaryCall;
  ListArtifacts(argument: _porthole_v1_ListArtifactsRequest, callback: grpc.requestCallback<_porthole_v1_ListArtifactsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The artifacts this sandbox may read, sorted by name.
   */
  listArtifacts(argument: _porthole_v1_ListArtifactsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_porthole_v1_ListArtifactsResponse__Output>): grpc.ClientUnaryCall;
  listArtifacts(argument: _porthole_v1_ListArtifactsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_porthole_v1_ListArtifactsResponse__Output>): grpc.ClientUnaryCall;
  listArtifacts(argument: _porthole_v1_ListArtifactsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_porthole_v1_ListArtifactsResponse__Output>): grpc.ClientUnaryCall;
  listArtifacts(argument: _porthole_v1_ListArtifactsRequest, callback: grpc.requestCallback<_porthole_v1_ListArtifactsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * A byte range of one artifact. The first message is the head (size,
   * sha256 of the whole artifact, the range served), then chunks in order.
   */
  ReadArtifact(argument: _porthole_v1_ReadArtifactRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_porthole_v1_ReadArtifactResponse__Output>;
  ReadArtifact(argument: _porthole_v1_ReadArtifactRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_porthole_v1_ReadArtifactResponse__Output>;
  /**
   * A byte range of one artifact. The first message is the head (size,
   * sha256 of the whole artifact, the range served), then chunks in order.
   */
  readArtifact(argument: _porthole_v1_ReadArtifactRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_porthole_v1_ReadArtifactResponse__Output>;
  readArtifact(argument: _porthole_v1_ReadArtifactRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_porthole_v1_ReadArtifactResponse__Output>;
  
  /**
   * One output. The first message is the head, then chunks, then an end.
   * The output exists, whole, once the reply arrives; a stream that stops
   * before its end message, for whatever reason, leaves nothing.
   */
  WriteOutput(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_porthole_v1_WriteOutputResponse__Output>): grpc.ClientWritableStream<_porthole_v1_WriteOutputRequest>;
  WriteOutput(metadata: grpc.Metadata, callback: grpc.requestCallback<_porthole_v1_WriteOutputResponse__Output>): grpc.ClientWritableStream<_porthole_v1_WriteOutputRequest>;
  WriteOutput(options: grpc.CallOptions, callback: grpc.requestCallback<_porthole_v1_WriteOutputResponse__Output>): grpc.ClientWritableStream<_porthole_v1_WriteOutputRequest>;
  WriteOutput(callback: grpc.requestCallback<_porthole_v1_WriteOutputResponse__Output>): grpc.ClientWritableStream<_porthole_v1_WriteOutputRequest>;
  /**
   * One output. The first message is the head, then chunks, then an end.
   * The output exists, whole, once the reply arrives; a stream that stops
   * before its end message, for whatever reason, leaves nothing.
   */
  writeOutput(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_porthole_v1_WriteOutputResponse__Output>): grpc.ClientWritableStream<_porthole_v1_WriteOutputRequest>;
  writeOutput(metadata: grpc.Metadata, callback: grpc.requestCallback<_porthole_v1_WriteOutputResponse__Output>): grpc.ClientWritableStream<_porthole_v1_WriteOutputRequest>;
  writeOutput(options: grpc.CallOptions, callback: grpc.requestCallback<_porthole_v1_WriteOutputResponse__Output>): grpc.ClientWritableStream<_porthole_v1_WriteOutputRequest>;
  writeOutput(callback: grpc.requestCallback<_porthole_v1_WriteOutputResponse__Output>): grpc.ClientWritableStream<_porthole_v1_WriteOutputRequest>;
  
}

export interface PortholeHandlers extends grpc.UntypedServiceImplementation {
  /**
   * One HTTP exchange carried out by the host under policy. The first
   * message is the head (status, headers, final URL), then body chunks.
   */
  FetchUrl: grpc.handleServerStreamingCall<_porthole_v1_FetchUrlRequest__Output, _porthole_v1_FetchUrlResponse>;
  
  /**
   * Handshake: the guest states what it speaks, the host answers what it
   * sees and enforces. A major version the host does not speak is refused
   * with INVALID_ARGUMENT on field `protocol_major`.
   */
  Hello: grpc.handleUnaryCall<_porthole_v1_HelloRequest__Output, _porthole_v1_HelloResponse>;
  
  /**
   * The artifacts this sandbox may read, sorted by name.
   */
  ListArtifacts: grpc.handleUnaryCall<_porthole_v1_ListArtifactsRequest__Output, _porthole_v1_ListArtifactsResponse>;
  
  /**
   * A byte range of one artifact. The first message is the head (size,
   * sha256 of the whole artifact, the range served), then chunks in order.
   */
  ReadArtifact: grpc.handleServerStreamingCall<_porthole_v1_ReadArtifactRequest__Output, _porthole_v1_ReadArtifactResponse>;
  
  /**
   * One output. The first message is the head, then chunks, then an end.
   * The output exists, whole, once the reply arrives; a stream that stops
   * before its end message, for whatever reason, leaves nothing.
   */
  WriteOutput: grpc.handleClientStreamingCall<_porthole_v1_WriteOutputRequest__Output, _porthole_v1_WriteOutputResponse>;
  
}

export interface PortholeDefinition extends grpc.ServiceDefinition {
  FetchUrl: MethodDefinition<_porthole_v1_FetchUrlRequest, _porthole_v1_FetchUrlResponse, _porthole_v1_FetchUrlRequest__Output, _porthole_v1_FetchUrlResponse__Output>
  Hello: MethodDefinition<_porthole_v1_HelloRequest, _porthole_v1_HelloResponse, _porthole_v1_HelloRequest__Output, _porthole_v1_HelloResponse__Output>
  ListArtifacts: MethodDefinition<_porthole_v1_ListArtifactsRequest, _porthole_v1_ListArtifactsResponse, _porthole_v1_ListArtifactsRequest__Output, _porthole_v1_ListArtifactsResponse__Output>
  ReadArtifact: MethodDefinition<_porthole_v1_ReadArtifactRequest, _porthole_v1_ReadArtifactResponse, _porthole_v1_ReadArtifactRequest__Output, _porthole_v1_ReadArtifactResponse__Output>
  WriteOutput: MethodDefinition<_porthole_v1_WriteOutputRequest, _porthole_v1_WriteOutputResponse, _porthole_v1_WriteOutputRequest__Output, _porthole_v1_WriteOutputResponse__Output>
}
