import { connect as h2connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';

/** How one raw call ended, as the wire said it. */
export interface RawOutcome {
  /** grpc-status, or undefined when the stream closed without one. */
  status: number | undefined;
  reason: string | undefined;
  message: string | undefined;
  /** Response body bytes (length-prefixed messages) received. */
  bodyBytes: number;
  /** The call was cancelled by the caller's deadline, not answered. */
  timedOut: boolean;
}

/** One gRPC message frame: compressed flag, 4-byte length, bytes. `declared` lies about the length. */
export function grpcFrame(message: Uint8Array, declared = message.length): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(declared >>> 0, 1);
  return Buffer.concat([head, message]);
}

/**
 * gRPC over node:http2 with no codec at all: the body is whatever bytes
 * the caller gives, so a test can send undecodable, truncated or lying
 * messages to any method.
 */
export class RawGrpc {
  private session: ClientHttp2Session | undefined;

  constructor(private readonly socketPath: string) {}

  private open(): ClientHttp2Session {
    if (!this.session || this.session.destroyed || this.session.closed) {
      const session = h2connect('http://localhost', { createConnection: () => netConnect(this.socketPath) });
      session.on('error', () => undefined);
      this.session = session;
    }
    return this.session;
  }

  /** Sends `body` as the whole request stream of `method`; resolves when the call ends or `timeoutMs` passes. */
  call(method: string, body: Buffer, timeoutMs = 5_000): Promise<RawOutcome> {
    const request = this.open().request({
      ':method': 'POST', ':path': `/porthole.v1.Porthole/${method}`,
      'content-type': 'application/grpc', te: 'trailers',
    });
    return new Promise((resolve) => {
      const outcome: RawOutcome = { status: undefined, reason: undefined, message: undefined, bodyBytes: 0, timedOut: false };
      const take = (headers: Record<string, unknown>): void => {
        if (headers['grpc-status'] !== undefined) outcome.status = Number(headers['grpc-status']);
        if (typeof headers['porthole-reason'] === 'string') outcome.reason = headers['porthole-reason'];
        if (typeof headers['grpc-message'] === 'string') outcome.message = decodeURIComponent(headers['grpc-message']);
      };
      const timer = setTimeout(() => {
        outcome.timedOut = true;
        request.close(constants.NGHTTP2_CANCEL);
      }, timeoutMs);
      request.on('response', take);
      request.on('trailers', take);
      request.on('data', (part: Buffer) => {
        outcome.bodyBytes += part.length;
      });
      request.on('error', () => undefined);
      request.on('close', () => {
        clearTimeout(timer);
        resolve(outcome);
      });
      request.end(body);
    });
  }

  close(): void {
    this.session?.destroy();
  }
}

/** A protobuf encoder just big enough to build seed messages by hand. */
export const pb = {
  varint(value: number): Buffer {
    const out: number[] = [];
    let v = BigInt(value);
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) byte |= 0x80;
      out.push(byte);
    } while (v > 0n);
    return Buffer.from(out);
  },
  uint(field: number, value: number): Buffer {
    return Buffer.concat([pb.varint(field << 3), pb.varint(value)]);
  },
  bytes(field: number, value: string | Uint8Array): Buffer {
    const data = typeof value === 'string' ? Buffer.from(value) : Buffer.from(value);
    return Buffer.concat([pb.varint((field << 3) | 2), pb.varint(data.length), data]);
  },
};
