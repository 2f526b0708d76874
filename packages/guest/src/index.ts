export {
  connect,
  Porthole,
  type ArtifactHead,
  type ArtifactInfo,
  type ArtifactStream,
  type ConnectOptions,
  type FetchInit,
  type ReadRange,
  type StoredOutput,
  type WriteOptions,
} from './client.js';
export type { OutputData } from './output-data.js';
export { PortholeResponse } from './response.js';
export type { RetryOptions } from './retry.js';
export { DEFAULT_VSOCK_ADDRESS, type Transport } from './transport.js';
export { dialingTransport, type Dial } from './vsock-connector.js';
export { PortholeError, REASON_EXIT_CODE, REASONS, type Reason } from '@porthole/shared';
export { SDK_VERSION } from './version.js';
