import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';

import * as grpc from '@grpc/grpc-js';
import { PortholeError } from '@porthole/shared';

/** Opens the socket one gRPC connection runs over. */
export type Dial = () => Promise<Socket>;

/**
 * Channel credentials whose connector swaps grpc-js's socket for one we
 * dial ourselves. grpc-js has no public hook for a client's socket; this
 * uses `_createSecureConnector`, present since grpc-js 1.13 and pinned by
 * the guest package (`~1.14`). A test covers it on every run.
 *
 * The swapped-in stream for `vsock:` is a real net.Socket over the AF_VSOCK
 * fd (see @porthole/vsock), so HTTP/2 runs on the native handle: no relay,
 * no extra copy.
 */
class DialingCredentials extends grpc.ChannelCredentials {
  constructor(private readonly dial: Dial) {
    super();
  }

  override compose(): never {
    throw new Error('Porthole channels carry no call credentials');
  }

  override _isSecure(): boolean {
    return false;
  }

  override _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  override _createSecureConnector(
    _target: unknown,
    _options: unknown,
    callCredentials?: grpc.CallCredentials,
  ): grpc.experimental.SecureConnector {
    const dial = this.dial;
    return {
      // grpc-js hands over its own connection to the placeholder target
      // first; it is dropped and the real stream takes its place.
      async connect(placeholder: Socket) {
        placeholder.destroy();
        return { socket: await dial(), secure: false };
      },
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => callCredentials ?? grpc.credentials.createEmpty(),
      destroy() {},
    };
  }
}

/** A gRPC target plus credentials, and what to release on close. */
export interface Transport {
  target: string;
  credentials: grpc.ChannelCredentials;
  close(): void;
}

/**
 * A transport that runs every gRPC connection over `dial()`. grpc-js always
 * opens a connection to its target before the connector runs, so the target
 * is an abstract Unix socket of this process (no file, nothing to clean up)
 * that accepts and drops; it is opened on first use.
 */
export function dialingTransport(dial: Dial): Transport {
  const name = `porthole-placeholder-${process.pid}-${randomBytes(8).toString('hex')}`;
  const placeholder = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.destroy();
  });
  // Bound in this tick, before grpc-js resolves the target; unref'd so an
  // idle channel never keeps the process alive.
  placeholder.listen(`\0${name}`).unref();

  return {
    target: `unix:\0${name}`,
    credentials: new DialingCredentials(dial),
    close() {
      placeholder.close();
    },
  };
}

/**
 * Dials AF_VSOCK `cid:port` through @porthole/vsock. Loaded on first use, so
 * unix: users never load the native addon; a machine without AF_VSOCK gets
 * UNAVAILABLE naming why.
 */
export function vsockDial(cid: number, port: number): Dial {
  return async () => {
    let vsock: typeof import('@porthole/vsock');
    try {
      vsock = await import('@porthole/vsock');
    } catch (error) {
      throw new PortholeError('UNAVAILABLE', `vsock:${cid}:${port}: @porthole/vsock cannot be loaded: ${(error as Error).message}`, { cause: error });
    }
    try {
      const socket = await vsock.connectAsync(cid, port, { timeout: CONNECT_TIMEOUT_MS });
      socket.setNoDelay(true);
      return socket;
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new PortholeError('UNAVAILABLE', `vsock:${cid}:${port}: ${code === 'VSOCK_UNAVAILABLE' ? '' : 'connect failed: '}${(error as Error).message}`, { cause: error });
    }
  };
}

// A vsock connect to a live VMM answers within milliseconds; this bounds the
// wait on a wedged device, after which grpc-js backs off and retries.
const CONNECT_TIMEOUT_MS = 5_000;
