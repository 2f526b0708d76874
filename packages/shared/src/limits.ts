/**
 * Bounds of the contract itself, the same for every sandbox. Per-sandbox
 * bounds live in the host's policy and are reported by Hello.
 */

/** Largest chunk on the wire: a 64 KiB message keeps per-stream buffers small. */
export const MAX_CHUNK_BYTES = 64 * 1024;

/**
 * Largest gRPC message either side accepts: one chunk plus room for a head,
 * or a fetch request with its body (bounded separately by policy).
 */
export const MAX_MESSAGE_BYTES = 2 * 1024 * 1024;

/** Output names: short, flat, printable and never a dot-file. */
export const OUTPUT_NAME_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
export const OUTPUT_NAME_MAX_LENGTH = 128;

/** Idempotency keys are opaque to the host but bounded. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 128;

/** Fetch requests: enough for real APIs, small enough to hold in memory. */
export const MAX_REQUEST_HEADERS = 64;
export const MAX_HEADER_BYTES = 8 * 1024;
export const MAX_URL_LENGTH = 8 * 1024;

/** Host follows at most this many redirects, whatever the policy says. */
export const MAX_REDIRECTS = 5;

// Names Windows and SMB shares treat as devices, with or without extension.
const RESERVED_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * Why an output name is unacceptable, or undefined when it is fine. Shared
 * so the guest can refuse early; the host checks again and is the authority.
 */
export function outputNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > OUTPUT_NAME_MAX_LENGTH) {
    return `is ${name.length} characters, at most ${OUTPUT_NAME_MAX_LENGTH} are allowed`;
  }
  // "../x" is a path first: calling it a dot-file would hide what it tried.
  const separator = /[/\\]/.exec(name);
  if (separator) return `holds ${JSON.stringify(separator[0])}: an output name is one file name, not a path`;
  if (name.startsWith('.')) return 'starts with a dot';
  const bad = /[^A-Za-z0-9._-]/.exec(name);
  if (bad) return `holds ${JSON.stringify(bad[0])}; only A-Z a-z 0-9 . _ - are allowed`;
  // Outputs often end up on other systems; a device name there is a trap.
  if (RESERVED_DEVICE.test(name)) return 'is a reserved device name';
  return undefined;
}
