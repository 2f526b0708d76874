export {
  createHostService,
  type HostService,
  type HostServiceOptions,
} from './service/host-service.js';
export { ConfigError, loadConfig, resolvePaths } from './config/load-config.js';
export type { EgressGuard, Resolver } from './fetch/upstream-pool.js';
export { AUDIT_FLUSH_MS, type AuditEntry, type Decision } from './audit/audit-log.js';
export type { UsageSnapshot } from './accounting/sandbox-usage.js';
export { OUTPUT_FILE_MODE } from './outputs/output-store.js';
export { HOST_VERSION } from './version.js';
