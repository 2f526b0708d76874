// @porthole/vsock: AF_VSOCK streams as real net.Socket objects.
import { availability } from './binding.js';

export { connect, connectAsync } from './connect.js';
export { listen, createServer, VsockServer } from './server.js';
export { VsockSocket } from './socket.js';
export { VsockUnavailableError } from './errors.js';

export const VMADDR_CID_ANY = 0xffffffff;
export const VMADDR_CID_HYPERVISOR = 0;
export const VMADDR_CID_LOCAL = 1;
export const VMADDR_CID_HOST = 2;
export const VMADDR_PORT_ANY = 0xffffffff;

/** Whether the addon loaded; does not open a socket (so it says nothing about the kernel). */
export function isAvailable() { return availability().available; }
export function unavailableReason() { return availability().reason; }
