import { isIP } from 'node:net';

import { z } from 'zod';

import { MAX_REDIRECTS } from './limits.js';

/**
 * The host service's configuration, as written by a platform engineer in
 * YAML or JSON. Sizes take a number of bytes or a string such as `64MiB`;
 * relative paths are resolved against the config file's folder.
 */

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1, B: 1,
  KB: 1e3, MB: 1e6, GB: 1e9,
  KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3,
};

const MAX_SIZE = 2 ** 50;

/** Bytes, as a whole number or a string like `512KiB`, `10MB`, `1GiB`. */
export const sizeSchema = z.union([z.number(), z.string()], {
  error: (issue) => (issue.input === undefined
    ? 'is required: a size in bytes such as 1048576 or "1MiB"'
    : `expected a size in bytes such as 1048576 or "1MiB", got ${JSON.stringify(issue.input)}`),
}).transform((value, ctx) => {
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(value) : null;
  const unit = match ? SIZE_UNITS[match[2] ?? ''] : 1;
  const bytes = typeof value === 'number' ? value : match && unit ? Number(match[1]) * unit : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > MAX_SIZE) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a size in bytes such as 1048576 or "1MiB", got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return bytes;
});

const positiveSize = sizeSchema.refine((bytes) => bytes > 0, 'must be more than 0 bytes');

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

const HOSTNAME = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

// A hostname, "*.domain", or an IP address (IPv6 with or without brackets).
// "127.0.0.1:8080" is neither: the port has its own field.
const hostname = z.string().refine(
  (h) => HOSTNAME.test(h) || isIP(h.replace(/^\[(.*)\]$/, '$1')) !== 0,
  'expected a hostname, "*.domain" or an IP address, without scheme, port or path',
);

const cidr = z.string().regex(/^[0-9A-Fa-f:.]+\/\d{1,3}$/, 'expected an address range such as "10.0.0.0/8"');

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected an HTTP header name');

/**
 * A secret the host adds to requests that match a rule. The value never
 * appears in the config: it is read from the host's environment or a file
 * when the host starts or reloads.
 */
export const credentialSchema = z.strictObject({
  header: headerName.transform((h) => h.toLowerCase()),
  from: z.union([
    z.strictObject({ env: z.string().min(1) }),
    z.strictObject({ file: z.string().min(1) }),
  ]),
  /** Put before the value: `"Bearer "`. */
  prefix: z.string().default(''),
  /** What to do when the guest sends the same header: refuse the call, or drop the guest's. */
  guestHeader: z.enum(['refuse', 'replace']).default('refuse'),
});
export type Credential = z.infer<typeof credentialSchema>;

export const fetchRuleSchema = z.strictObject({
  /** `https` or `http`. */
  scheme: z.enum(['http', 'https']),
  /** Exact hostname, `*.example.com` for its subdomains, or an IP address. */
  host: hostname.transform((h) => h.toLowerCase().replace(/^\[|\]$/g, '')),
  /** Omitted: the scheme's default port. */
  port: z.number().int().min(1).max(65535).optional(),
  /** Paths must start with this; `/` or omitted allows every path. */
  pathPrefix: z.string().startsWith('/', 'must start with "/"').default('/'),
  /** Omitted: GET and HEAD only. */
  methods: z.array(z.enum(HTTP_METHODS)).min(1).default(['GET', 'HEAD']),
  /**
   * Non-public address ranges (loopback, private, link-local...) this rule
   * may connect to. A rule whose host is an IP literal names that address
   * already. Everything non-public that is not named is refused.
   */
  allowAddresses: z.array(cidr).default([]),
  /** Secrets added to matching requests on the first origin only. */
  inject: z.array(credentialSchema).default([]),
});
export type FetchRule = z.infer<typeof fetchRuleSchema>;

export const fetchPolicySchema = z.strictObject({
  /** Each request must match one rule. An empty list refuses every URL. */
  allow: z.array(fetchRuleSchema),
  /** Request bodies travel in one message, so they stay small. */
  maxRequestBodyBytes: sizeSchema
    .refine((bytes) => bytes <= 16 * 1024 * 1024, 'must be at most 16MiB')
    .default(1024 * 1024),
  /** Body bytes the guest may receive, after decoding. */
  maxResponseBytes: positiveSize.default(64 * 1024 * 1024),
  /** A compressed body may not expand more than this many times. */
  maxCompressionRatio: z.number().min(1).max(10_000).default(100),
  /** Upstream sockets this sandbox may hold open at once, all origins together. */
  maxConnections: z.number().int().min(1).max(4096).default(32),
  /** An upstream that sends nothing for this long is cut off. */
  idleTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
  /** Whole exchange, redirects and body included. */
  timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  maxRedirects: z.number().int().min(0).max(MAX_REDIRECTS).default(MAX_REDIRECTS),
});
export type FetchPolicy = z.infer<typeof fetchPolicySchema>;

export const outputsPolicySchema = z.strictObject({
  dir: z.string().min(1),
  /** Total bytes of all outputs. */
  maxBytes: positiveSize,
  maxFiles: z.number().int().min(1).max(1_000_000),
  /** Largest single output. */
  maxFileBytes: positiveSize,
  /**
   * Writes are refused once the disk holding the folder has less than this
   * free, so guests cannot fill the host's disk whatever their quotas.
   */
  minFreeBytes: sizeSchema.default(64 * 1024 * 1024),
  /** A write that sends nothing for this long is aborted. */
  idleTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
});
export type OutputsPolicy = z.infer<typeof outputsPolicySchema>;

export const limitsSchema = z.strictObject({
  /** Token bucket refill rate for calls of every kind. */
  requestsPerSecond: z.number().positive().max(1_000_000).default(50),
  /** Calls that may arrive at once after a quiet period. */
  burst: z.number().int().min(1).max(1_000_000).default(100),
  /** Calls in progress at once; one more is refused with RATE_LIMITED. */
  maxConcurrent: z.number().int().min(1).max(10_000).default(16),
  /** Bytes per second moved for this sandbox, each direction, all actions together. */
  bytesPerSecond: positiveSize.default(256 * 1024 * 1024),
  /** Guest-to-host bytes per second (outputs, request bodies); omitted: bytesPerSecond. */
  bytesInPerSecond: positiveSize.optional(),
  /** Host-to-guest bytes per second (artifacts, responses); omitted: bytesPerSecond. */
  bytesOutPerSecond: positiveSize.optional(),
  /**
   * Host CPU milliseconds per second this sandbox's calls may use; once
   * spent, calls are refused with RATE_LIMITED until it refills. Omitted:
   * accounted, not limited.
   */
  cpuMsPerSecond: z.number().positive().max(100_000).optional(),
  /** Guest connections open at once on the sandbox's socket. */
  maxConnections: z.number().int().min(1).max(1024).default(8),
  /** A guest that reads nothing of a stream for this long loses the call. */
  stallTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  /** A guest connection with no call for this long is closed. */
  idleConnectionMs: z.number().int().min(100).max(86_400_000).default(15 * 60_000),
  /**
   * The host pings a quiet guest connection this often and closes it when
   * a ping goes unanswered for a third of that (at least 100 ms).
   */
  keepaliveMs: z.number().int().min(100).max(3_600_000).default(60_000),
});
export type Limits = z.infer<typeof limitsSchema>;

const sandboxId = z.string().regex(
  /^[a-z0-9][a-z0-9_-]{0,62}$/,
  'expected 1 to 63 characters of a-z 0-9 _ -, starting with a letter or digit',
);

export const sandboxSchema = z.strictObject({
  id: sandboxId,
  /**
   * The VM's vsock Unix socket path (Firecracker `uds_path`, Cloud
   * Hypervisor `socket`). The host listens on `<udsPath>_<port>`. Omitted:
   * the sandbox is reached over AF_VSOCK only, by its `cid`.
   */
  listen: z.strictObject({
    udsPath: z.string().min(1),
    port: z.number().int().min(1).max(0xffff_ffff).default(52),
  }).optional(),
  /**
   * The guest CID of this sandbox's VM (QEMU `vhost-vsock-pci,guest-cid=N`).
   * A connection to the host's `vsock` listener whose peer CID, as the
   * kernel reports it, is this one is this sandbox. Guests have 3 and up;
   * 1 is the local loopback, for tests. Omitted: not reachable over vsock.
   */
  cid: z.number().int().min(1).max(0xffff_fffe)
    .refine((cid) => cid !== 2, 'CID 2 is the host itself, not a guest')
    .optional(),
  /** Read-only folder of artifacts; omitted disables the read actions. */
  artifacts: z.string().min(1).optional(),
  /** Omitted disables WriteOutput. */
  outputs: outputsPolicySchema.optional(),
  /** Omitted disables FetchUrl. */
  fetch: fetchPolicySchema.optional(),
  limits: limitsSchema.default(limitsSchema.parse({})),
});
export type SandboxConfig = z.infer<typeof sandboxSchema>;

/** Bounds on the whole host, across sandboxes. */
export const hostLimitsSchema = z.strictObject({
  /** Calls in progress across all sandboxes. */
  maxConcurrentCalls: z.number().int().min(1).max(100_000).default(1024),
  /** Upstream sockets the host holds open for all sandboxes together. */
  maxUpstreamConnections: z.number().int().min(1).max(100_000).default(512),
  /**
   * Charge each call the host CPU time of the callbacks run for it. It
   * costs tens of microseconds per call, and more for fetches. Omitted: on
   * when a sandbox has a cpuMsPerSecond budget, off otherwise (cpuMs is
   * then 0). false with a budget is refused.
   */
  cpuAccounting: z.boolean().optional(),
});
export type HostLimits = z.infer<typeof hostLimitsSchema>;

export const hostConfigSchema = z.strictObject({
  /** File the audit log is appended to, one JSON object per decision. */
  audit: z.strictObject({ path: z.string().min(1) }),
  /** Operational log level (pino); logs go to stderr. */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  limits: hostLimitsSchema.default(hostLimitsSchema.parse({})),
  /**
   * Listen on AF_VSOCK (QEMU vhost-vsock deployments): each connection goes
   * to the sandbox whose `cid` is the peer's; others are closed and logged.
   * Omitted: no vsock listener (Firecracker and Cloud Hypervisor reach the
   * host through each sandbox's `listen` socket).
   */
  vsock: z.strictObject({
    port: z.number().int().min(1).max(0xffff_fffe).default(52),
    /** Local CID to bind; omitted: any. */
    cid: z.number().int().min(0).max(0xffff_ffff).optional(),
  }).optional(),
  sandboxes: z.array(sandboxSchema).min(1, 'at least one sandbox is needed'),
}).superRefine((config, ctx) => {
  const seen = new Map<string, number>();
  config.sandboxes.forEach((sandbox, index) => {
    if (config.limits.cpuAccounting === false && sandbox.limits.cpuMsPerSecond !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['sandboxes', index, 'limits', 'cpuMsPerSecond'],
        message: 'a CPU budget needs limits.cpuAccounting to be true',
      });
    }
    if (!sandbox.listen && sandbox.cid === undefined) {
      ctx.addIssue({ code: 'custom', path: ['sandboxes', index, 'listen'], message: 'a sandbox needs listen (a Unix socket), cid (over vsock) or both' });
    }
    if (sandbox.cid !== undefined && !config.vsock) {
      ctx.addIssue({ code: 'custom', path: ['sandboxes', index, 'cid'], message: 'cid needs a host-level vsock listener: add vsock: { port: 52 }' });
    }
    const socket = sandbox.listen ? `${sandbox.listen.udsPath}_${sandbox.listen.port}` : undefined;
    const cid = sandbox.cid === undefined ? undefined : String(sandbox.cid);
    for (const [key, path] of [['id', sandbox.id], ['socket', socket], ['cid', cid]] as const) {
      if (path === undefined) continue;
      const earlier = seen.get(`${key}:${path}`);
      if (earlier !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['sandboxes', index, key === 'socket' ? 'listen' : key],
          message: `${key} ${JSON.stringify(path)} is already used by sandboxes[${earlier}]`,
        });
      }
      seen.set(`${key}:${path}`, index);
    }
  });
});
export type HostConfig = z.infer<typeof hostConfigSchema>;

/** One problem found in a config: where it is and what rule it broke. */
export interface ConfigIssue {
  path: string;
  message: string;
}

/** Formats a zod issue path the way a reader finds it in the file. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text ? `${text}.${String(key)}` : String(key);
  }, '');
}

/** Validates a parsed config object, returning the config or every issue. */
export function validateHostConfig(
  input: unknown,
): { ok: true; config: HostConfig } | { ok: false; issues: ConfigIssue[] } {
  // zod's own words for a missing key ("expected object, received
  // undefined") send the reader looking for a wrong value, not a line to add.
  const result = hostConfigSchema.safeParse(input, {
    error: (issue) => (issue.code === 'invalid_type' && issue.input === undefined ? `is required (${issue.expected})` : undefined),
  });
  if (result.success) return { ok: true, config: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({
      path: formatPath(issue.path) || '(root)',
      message: issue.message,
    })),
  };
}
