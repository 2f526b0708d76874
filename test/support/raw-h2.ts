import { connect, type Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 0x1, END_HEADERS: 0x4 } as const;

/**
 * An HTTP/2 peer that writes frames by hand, so a test can send what no
 * well-behaved client library would: floods of PING, SETTINGS, RST_STREAM
 * or CONTINUATION frames.
 */
export class RawH2 {
  readonly closed: Promise<void>;
  bytesReceived = 0;

  private constructor(readonly socket: Socket) {
    socket.on('data', (data: Buffer) => {
      this.bytesReceived += data.length;
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async open(path: string): Promise<RawH2> {
    const peer = new RawH2(connect(path));
    // Settles on connect or close; an error event alone (EPIPE after the
    // host refused) is the close that follows it.
    await new Promise<void>((resolve) => {
      peer.socket.once('connect', resolve);
      peer.socket.once('close', () => resolve());
    });
    if (!peer.isClosed) {
      peer.socket.write(PREFACE);
      peer.frame(FRAME.SETTINGS, 0, 0, Buffer.alloc(0));
    }
    return peer;
  }

  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  /** Writes one frame; resolves false once the socket is gone. */
  frame(type: number, flags: number, stream: number, payload: Buffer): boolean {
    if (this.socket.destroyed) return false;
    const head = Buffer.alloc(9);
    head.writeUIntBE(payload.length, 0, 3);
    head.writeUInt8(type, 3);
    head.writeUInt8(flags, 4);
    head.writeUInt32BE(stream & 0x7fffffff, 5);
    this.socket.write(Buffer.concat([head, payload]));
    return true;
  }

  /** A HEADERS block for a gRPC call, HPACK literals without indexing. */
  static grpcHeaders(method: string): Buffer {
    return Buffer.concat([
      [':method', 'POST'], [':scheme', 'http'], [':path', `/porthole.v1.Porthole/${method}`],
      [':authority', 'localhost'], ['content-type', 'application/grpc'], ['te', 'trailers'],
    ].map(([name, value]) => literal(name!, value!)));
  }

  static literal(name: string, value: string): Buffer {
    return literal(name, value);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name);
  const v = Buffer.from(value);
  if (n.length > 126 || v.length > 126) throw new RangeError('short literals only');
  return Buffer.concat([Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v]);
}
