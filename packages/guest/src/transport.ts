import { existsSync } from 'node:fs';

import * as grpc from '@grpc/grpc-js';
import { ADDRESS_ENV, parseAddress, PortholeError, type PortholeAddress } from '@porthole/shared';

import { dialingTransport, vsockDial, type Transport } from './vsock-connector.js';

export type { Transport } from './vsock-connector.js';

/**
 * Inside a VM with AF_VSOCK and no address given, the SDK dials the host
 * (CID 2) on the port the README documents. An empty $PORTHOLE_ADDRESS
 * turns this default off.
 */
export const DEFAULT_VSOCK_ADDRESS = 'vsock:2:52';
const VSOCK_DEVICE = '/dev/vsock';

/** The address to use: the given one, $PORTHOLE_ADDRESS, or the VM default. */
export function resolveAddress(addressText: string | undefined): PortholeAddress {
  const env = process.env[ADDRESS_ENV];
  const text = addressText ?? (env === undefined && existsSync(VSOCK_DEVICE) ? DEFAULT_VSOCK_ADDRESS : env);
  if (!text) {
    throw new PortholeError('INVALID_ARGUMENT', `no address: pass { address } or set ${ADDRESS_ENV}=unix:PATH`, { field: 'address' });
  }
  try {
    return parseAddress(text);
  } catch (error) {
    throw new PortholeError('INVALID_ARGUMENT', (error as Error).message, { field: 'address' });
  }
}

/**
 * How the channel reaches the host: a unix: address is grpc-js's own target;
 * a vsock: address runs each connection over an AF_VSOCK socket we dial.
 */
export function openTransport(addressText: string | undefined): Transport {
  const address = resolveAddress(addressText);
  if (address.kind === 'vsock') return dialingTransport(vsockDial(address.cid, address.port));
  return {
    target: `unix:${address.path}`,
    // The transport is a local socket owned by the VMM: there is no network
    // path to protect, and identity comes from the socket, not a certificate.
    credentials: grpc.credentials.createInsecure(),
    close() {},
  };
}
