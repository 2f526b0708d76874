/**
 * Where a guest reaches its host. `unix:PATH` is a Unix socket (the host side
 * of Firecracker and Cloud Hypervisor hybrid vsock, or a local test);
 * `vsock:CID:PORT` is AF_VSOCK from inside a VM.
 */
export type PortholeAddress =
  | { kind: 'unix'; path: string }
  | { kind: 'vsock'; cid: number; port: number };

/** Environment variable the guest SDK and CLI read their address from. */
export const ADDRESS_ENV = 'PORTHOLE_ADDRESS';

const UINT32_MAX = 0xffff_ffff;

/** Parses an address, throwing a TypeError that names what was wrong. */
export function parseAddress(text: string): PortholeAddress {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    if (path.length === 0) throw new TypeError(`address '${text}': unix: needs a socket path`);
    if (path.includes('\0')) throw new TypeError(`address '${text}': the path holds a NUL byte`);
    return { kind: 'unix', path };
  }

  if (text.startsWith('vsock:')) {
    const parts = text.slice('vsock:'.length).split(':');
    const [cid, port] = parts.map((part) => (/^\d{1,10}$/.test(part) ? Number(part) : Number.NaN));
    if (parts.length !== 2 || cid === undefined || port === undefined || Number.isNaN(cid) || Number.isNaN(port)) {
      throw new TypeError(`address '${text}': expected vsock:CID:PORT`);
    }
    if (!(cid <= UINT32_MAX)) throw new TypeError(`address '${text}': CID must be 0 to ${UINT32_MAX}`);
    if (!(port <= UINT32_MAX)) throw new TypeError(`address '${text}': port must be 0 to ${UINT32_MAX}`);
    return { kind: 'vsock', cid, port };
  }

  throw new TypeError(`address '${text}': expected unix:PATH or vsock:CID:PORT`);
}

export function formatAddress(address: PortholeAddress): string {
  return address.kind === 'unix'
    ? `unix:${address.path}`
    : `vsock:${address.cid}:${address.port}`;
}

/**
 * The host socket Firecracker and Cloud Hypervisor connect to when the guest
 * dials the host (CID 2) on `port`: the VM's vsock `uds_path` plus `_PORT`.
 */
export function hybridVsockPath(udsPath: string, port: number): string {
  return `${udsPath}_${port}`;
}
