import type { Http2Session, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';

import * as grpc from '@grpc/grpc-js';
import { MAX_MESSAGE_BYTES, portholeService } from '@porthole/shared';
import type { Logger } from 'pino';

import type { Sandbox } from '../sandbox/sandbox.js';
import { withHelloEncodedOnce } from '../actions/hello.js';
import { sandboxHandlers } from '../service/handlers.js';
import { injectorHttp2Server, policeSession, streamBudget } from './frame-police.js';

// HTTP/2 streams one guest connection may have open; calls past the
// sandbox's concurrency limit are refused by admission before this.
const MAX_STREAMS_PER_CONNECTION = 128;

// nghttp2's memory for one connection (MB): headers, frames queued for a
// slow reader. Past it the session refuses new streams.
const MAX_SESSION_MEMORY_MB = 32;

/** Settings grpc-js applies per server, so per group of sandboxes sharing one. */
export interface ConnectionOptions {
  receiveLimit: number;
  keepaliveMs: number;
  idleConnectionMs: number;
}

/** Whoever accepted a connection: the sandbox in force for its new calls. */
export interface ConnectionOwner {
  readonly sandbox: Sandbox;
}

/**
 * One gRPC server for the connections of every sandbox with the same
 * ConnectionOptions: a grpc.Server per sandbox costs the host several KiB
 * even when idle. Each connection is bound to the listener that accepted
 * it when it is injected, and each call to its connection's listener, by
 * the objects Node and grpc-js make for them (session, stream, the call's
 * metrics recorder) and never by anything the guest sends.
 */
export class GuestServer {
  private readonly grpcServer: grpc.Server;
  private readonly injector: ReturnType<grpc.Server['createConnectionInjector']>;
  private readonly sessions = new WeakMap<Http2Session, ConnectionOwner>();
  // Keyed by the one object grpc-js makes per call and hands both to
  // interceptors and to handlers: the call's metrics recorder. null marks
  // a recorder grpc-js gave more than one call, which binds no call again.
  private readonly calls = new WeakMap<object, ConnectionOwner | null>();
  // Node creates the session of an injected connection, and grpc-js the
  // call of a stream, synchronously in the event that hands them over;
  // these carry the owner into those events and are empty outside them.
  private injecting: ConnectionOwner | undefined;
  private streamOwner: ConnectionOwner | undefined;

  constructor(readonly options: ConnectionOptions, private readonly log: Logger) {
    this.grpcServer = new grpc.Server({
      'grpc.max_receive_message_length': options.receiveLimit,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_concurrent_streams': MAX_STREAMS_PER_CONNECTION,
      'grpc-node.max_session_memory': MAX_SESSION_MEMORY_MB,
      'grpc.keepalive_time_ms': options.keepaliveMs,
      'grpc.keepalive_timeout_ms': Math.max(100, Math.round(options.keepaliveMs / 3)),
      'grpc.max_connection_idle_ms': options.idleConnectionMs,
      'grpc.enable_channelz': 0,
      interceptors: [(_method, call) => this.bindCall(call)],
    });
    this.grpcServer.addService(withHelloEncodedOnce(portholeService()), sandboxHandlers((call) => this.sandboxOf(call)) as unknown as grpc.UntypedServiceImplementation);
    this.injector = this.grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());

    const http2Server = injectorHttp2Server(this.grpcServer);
    // Without the HTTP/2 server no call could be bound to its sandbox.
    if (!http2Server) throw new Error('grpc-js HTTP/2 server not found: sandboxes cannot be told apart');
    http2Server.on('session', (session: ServerHttp2Session) => this.bindSession(session));
    // Around grpc-js's own listener, which creates the call.
    http2Server.prependListener('stream', (stream: ServerHttp2Stream) => {
      const { session } = stream;
      this.streamOwner = session && this.sessions.get(session);
    });
    http2Server.on('stream', () => {
      this.streamOwner = undefined;
    });
  }

  /** Serves one connection accepted for `owner`; closes it if it cannot be bound. */
  inject(socket: Socket, owner: ConnectionOwner): void {
    this.injecting = owner;
    try {
      this.injector.injectConnection(socket);
    } finally {
      const unbound = this.injecting !== undefined;
      this.injecting = undefined;
      if (unbound) {
        owner.sandbox.log.error('connection closed: no HTTP/2 session was made for it');
        socket.destroy();
      }
    }
  }

  close(): void {
    this.injector.destroy();
    this.grpcServer.forceShutdown();
  }

  private bindSession(session: ServerHttp2Session): void {
    const owner = this.injecting;
    this.injecting = undefined;
    if (!owner) {
      this.log.error('HTTP/2 session without an accepted connection closed');
      session.destroy();
      return;
    }
    this.sessions.set(session, owner);
    owner.sandbox.streamHold.watch(session, MAX_STREAMS_PER_CONNECTION);
    policeSession(session, streamBudget(owner.sandbox.config.limits.requestsPerSecond), (kind, count) => {
      owner.sandbox.log.warn({ flood: kind, count }, 'connection cut off: control frame flood');
    });
  }

  /**
   * Binds the call grpc-js is making to the connection's owner, by the
   * call's metrics recorder, which handlers reach too. The call is returned
   * as it is: a wrapping ServerInterceptingCall, to learn the call's
   * metadata, relayed every event of every call through one more layer.
   */
  private bindCall(call: grpc.ServerInterceptingCallInterface): grpc.ServerInterceptingCall {
    const owner = this.streamOwner;
    this.streamOwner = undefined;
    const key = call.getMetricsRecorder();
    // A recorder seen before is not one call's own: no call holding it is
    // served, rather than one served as another's sandbox.
    if (this.calls.has(key)) {
      this.calls.set(key, null);
      this.log.error('calls refused: grpc-js gave two calls the same metrics recorder');
    } else if (owner) {
      this.calls.set(key, owner);
    }
    // grpc-js only uses what an interceptor returns through this interface.
    return call as grpc.ServerInterceptingCall;
  }

  /** The sandbox in force on the call's connection now; undefined is a host fault. */
  private sandboxOf(call: { getMetricsRecorder(): object }): Sandbox | undefined {
    const owner = this.calls.get(call.getMetricsRecorder());
    if (!owner) this.log.error('call refused: its connection is bound to no sandbox');
    return owner?.sandbox;
  }
}

