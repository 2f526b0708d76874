import { createHash } from 'node:crypto';

/**
 * The neutral policy the endpoint under test must be started with. Plain
 * JSON, absolute paths, sizes in bytes, no defaults: every value a check
 * relies on is written out. proto/README.md ("The conformance policy")
 * states what each field means.
 */
export interface ConformancePolicy {
  /** Version of this policy format. */
  conformancePolicy: 1;
  /** The suite's HTTP upstream, on 127.0.0.1, which the run step listens on again. */
  upstream: { host: '127.0.0.1'; port: number };
  sandboxes: SandboxPolicy[];
}

export interface SandboxPolicy {
  /** The id Hello must report on this sandbox's address. */
  id: string;
  /** Which --address this sandbox is: the first ("main") or the second ("other"). */
  role: 'main' | 'other';
  /** Folder of read-only artifacts; its regular files directly inside, minus dot-files. */
  artifacts: string;
  /** Absent: WriteOutput is refused with POLICY_DENIED. */
  outputs?: { dir: string; maxBytes: number; maxFiles: number; maxFileBytes: number };
  fetch: {
    allow: FetchRule[];
    maxRequestBodyBytes: number;
    maxResponseBytes: number;
    timeoutMs: number;
    maxRedirects: number;
  };
  limits: { requestsPerSecond: number; burst: number; maxConcurrent: number; bytesPerSecond: number };
}

export interface FetchRule {
  scheme: 'http';
  host: '127.0.0.1';
  port: number;
  pathPrefix: string;
  methods: string[];
}

/** One fixture file and how to make its bytes, so the run step need not read them. */
export interface ArtifactSpec {
  name: string;
  size: number;
  /** Not an artifact: listing it or reading it is a failure. */
  hidden?: boolean;
}

const KiB = 1024;
const MiB = 1024 * 1024;

/** Path prefixes of the two sandboxes' fetch rules on the suite's upstream. */
export const MAIN_PREFIX = '/c/';
export const OTHER_PREFIX = '/other/';

export const MAIN_ARTIFACTS: readonly ArtifactSpec[] = [
  { name: 'alpha.txt', size: 6 },
  { name: 'data.bin', size: 300_000 },
  { name: 'empty.txt', size: 0 },
  { name: 'exact.bin', size: 2 * 64 * KiB },
  { name: 'large.bin', size: 16 * MiB },
  { name: '.hidden', size: 10, hidden: true },
];
export const OTHER_ARTIFACTS: readonly ArtifactSpec[] = [{ name: 'other-only.txt', size: 12 }];

/** The deterministic bytes of an artifact: derived from its name and size. */
export function artifactBytes(spec: ArtifactSpec): Buffer {
  if (spec.name === 'alpha.txt') return Buffer.from('alpha\n');
  if (spec.name === 'other-only.txt') return Buffer.from('other only\n\n');
  const seed = createHash('sha256').update(spec.name).digest();
  const data = Buffer.allocUnsafe(spec.size);
  for (let i = 0; i < spec.size; i++) data[i] = (seed[i % 32]! + i * 31 + (i >>> 8)) & 0xff;
  return data;
}

/** The policy for a fixtures folder and an upstream port. */
export function conformancePolicy(dir: string, port: number): ConformancePolicy {
  return {
    conformancePolicy: 1,
    upstream: { host: '127.0.0.1', port },
    sandboxes: [
      {
        id: 'conf-main',
        role: 'main',
        artifacts: `${dir}/main/artifacts`,
        outputs: { dir: `${dir}/main/outputs`, maxBytes: 1 * MiB, maxFiles: 12, maxFileBytes: 256 * KiB },
        fetch: {
          allow: [{ scheme: 'http', host: '127.0.0.1', port, pathPrefix: MAIN_PREFIX, methods: ['GET', 'HEAD', 'POST'] }],
          maxRequestBodyBytes: 64 * KiB,
          // Far above what a correctly paced stream ever takes in: the
          // backpressure check offers this much and expects a stall long before.
          maxResponseBytes: 256 * MiB,
          timeoutMs: 15_000,
          maxRedirects: 2,
        },
        limits: { requestsPerSecond: 1000, burst: 1000, maxConcurrent: 4, bytesPerSecond: 256 * MiB },
      },
      {
        id: 'conf-other',
        role: 'other',
        artifacts: `${dir}/other/artifacts`,
        fetch: {
          allow: [{ scheme: 'http', host: '127.0.0.1', port, pathPrefix: OTHER_PREFIX, methods: ['GET'] }],
          maxRequestBodyBytes: 1 * KiB,
          maxResponseBytes: 256 * KiB,
          timeoutMs: 1000,
          maxRedirects: 0,
        },
        limits: { requestsPerSecond: 1, burst: 40, maxConcurrent: 4, bytesPerSecond: 256 * MiB },
      },
    ],
  };
}

/**
 * The same policy as a porthole-host config (our implementation's form):
 * each sandbox listens on `<runDir>/<id>.sock_52`.
 */
export function portholeHostConfig(policy: ConformancePolicy, runDir: string, auditFile: string): Record<string, unknown> {
  return {
    audit: { path: auditFile },
    logLevel: 'warn',
    sandboxes: policy.sandboxes.map((s) => ({
      id: s.id,
      listen: { udsPath: `${runDir}/${s.id}.sock`, port: 52 },
      artifacts: s.artifacts,
      ...(s.outputs ? { outputs: { ...s.outputs } } : {}),
      fetch: {
        allow: s.fetch.allow.map((rule) => ({ ...rule })),
        maxRequestBodyBytes: s.fetch.maxRequestBodyBytes,
        maxResponseBytes: s.fetch.maxResponseBytes,
        timeoutMs: s.fetch.timeoutMs,
        maxRedirects: s.fetch.maxRedirects,
      },
      limits: { ...s.limits },
    })),
  };
}

/** The addresses porthole-host listens on for a config made by portholeHostConfig. */
export function portholeHostAddresses(policy: ConformancePolicy, runDir: string): string[] {
  return policy.sandboxes.map((s) => `unix:${runDir}/${s.id}.sock_52`);
}
