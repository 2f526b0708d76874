import * as grpc from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

import type { ProtoGrpcType } from './gen/porthole.js';
import type { PortholeDefinition } from './gen/porthole/v1/Porthole.js';

/** The contract major version this code speaks. */
export const PROTOCOL_MAJOR = 1;
/** major.minor of the contract, as the host reports it in Hello. */
export const PROTOCOL_VERSION = '1.0';

// Must match the flags in scripts/gen-types.mjs: the generated types describe
// exactly the objects this loader produces.
const LOADER_OPTIONS: Options = {
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

// src/ and dist/ both sit two folders below the repository root.
// TODO(limit): the proto is read from the repository, so this package only
// works inside a checkout or an image that keeps the repository layout.
const PROTO_ROOT = fileURLToPath(new URL('../../../proto/', import.meta.url));

/** Path of the contract's .proto file. */
export const PROTO_FILE = `${PROTO_ROOT}porthole/v1/porthole.proto`;

let loaded: ProtoGrpcType | undefined;

function load(): ProtoGrpcType {
  loaded ??= grpc.loadPackageDefinition(
    loadSync('porthole/v1/porthole.proto', {
      ...LOADER_OPTIONS,
      includeDirs: [PROTO_ROOT],
    }),
  ) as unknown as ProtoGrpcType;
  return loaded;
}

/** The service definition a host registers its handlers against. */
export function portholeService(): PortholeDefinition {
  return load().porthole.v1.Porthole.service;
}

/** The generated client class for the Porthole service. */
export function portholeClientClass(): ProtoGrpcType['porthole']['v1']['Porthole'] {
  return load().porthole.v1.Porthole;
}
