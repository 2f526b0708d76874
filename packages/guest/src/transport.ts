import { ADDRESS_ENV, parseAddress, PortholeError } from '@porthole/shared';

/** The gRPC target for a Porthole address, or a clear refusal. */
export function grpcTarget(addressText: string | undefined): string {
  const text = addressText ?? process.env[ADDRESS_ENV];
  if (!text) {
    throw new PortholeError('INVALID_ARGUMENT', `no address: pass { address } or set ${ADDRESS_ENV}=unix:PATH`, { field: 'address' });
  }
  let address;
  try {
    address = parseAddress(text);
  } catch (error) {
    throw new PortholeError('INVALID_ARGUMENT', (error as Error).message, { field: 'address' });
  }
  if (address.kind === 'vsock') {
    // TODO(limit): AF_VSOCK is not wired into the SDK yet; inside a VM use a
    // relay to a unix: address.
    throw new PortholeError('UNAVAILABLE', `address ${text}: vsock transport is not available in this SDK build`, { field: 'address' });
  }
  return `unix:${address.path}`;
}
