// Loads bench/proto/echo.proto with the same loader options Porthole uses.
import { fileURLToPath } from 'node:url';

import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

const PROTO = fileURLToPath(new URL('../proto/echo.proto', import.meta.url));

export function echoPackage() {
  const definition = loadSync(PROTO, { longs: Number, enums: String, defaults: true, oneofs: true });
  return grpc.loadPackageDefinition(definition).bench;
}
