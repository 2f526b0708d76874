// Error objects shaped like Node's own system errors (code/errno/syscall).
import { getSystemErrorName } from 'node:util';

export class VsockUnavailableError extends Error {
  constructor(reason, cause) {
    super(`AF_VSOCK is unavailable: ${reason}`, cause ? { cause } : undefined);
    this.name = 'VsockUnavailableError';
    this.code = 'VSOCK_UNAVAILABLE';
    this.reason = reason;
  }
}

// errno is negative (Node convention). Unknown values keep a readable code.
export function systemError(errno, syscall, detail) {
  let code;
  try { code = getSystemErrorName(errno); } catch { code = `E${-errno}`; }
  const err = new Error(`${syscall} ${code}${detail ? ' ' + detail : ''}`);
  err.code = code;
  err.errno = errno;
  err.syscall = syscall;
  return err;
}

// Turn an error thrown by the addon ({errno, syscall}) into a Node-style error.
export function fromNative(e, detail) {
  if (typeof e?.errno !== 'number') return e;
  return systemError(e.errno, e.syscall, detail);
}
