export { PortholeError, type PortholeErrorDetail } from './porthole-error.js';
export {
  ERROR_METADATA,
  isReason,
  REASON_EXIT_CODE,
  REASON_STATUS,
  REASONS,
  type Reason,
} from './reasons.js';
export {
  ADDRESS_ENV,
  formatAddress,
  hybridVsockPath,
  parseAddress,
  type PortholeAddress,
} from './address.js';
export {
  IDEMPOTENCY_KEY_MAX_LENGTH,
  MAX_CHUNK_BYTES,
  MAX_HEADER_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_REDIRECTS,
  MAX_REQUEST_HEADERS,
  MAX_URL_LENGTH,
  OUTPUT_NAME_MAX_LENGTH,
  OUTPUT_NAME_PATTERN,
  outputNameProblem,
} from './limits.js';
export { parseArgsProblem } from './parse-args-problem.js';

// For implementers: the contract, its generated types and the host config.
export {
  PROTO_FILE,
  PROTOCOL_MAJOR,
  PROTOCOL_VERSION,
  portholeClientClass,
  portholeService,
} from './contract.js';
export {
  credentialSchema,
  fetchPolicySchema,
  hostLimitsSchema,
  fetchRuleSchema,
  formatPath,
  hostConfigSchema,
  limitsSchema,
  outputsPolicySchema,
  sandboxSchema,
  sizeSchema,
  validateHostConfig,
  type ConfigIssue,
  type Credential,
  type HostLimits,
  type FetchPolicy,
  type FetchRule,
  type HostConfig,
  type HttpMethod,
  type Limits,
  type OutputsPolicy,
  type SandboxConfig,
} from './host-config.js';
export type * as wire from './wire.js';
