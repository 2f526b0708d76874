import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { ServerHttp2Session } from 'node:http2';
import { dirname } from 'node:path';

import * as grpc from '@grpc/grpc-js';
import { MAX_MESSAGE_BYTES, portholeService } from '@porthole/shared';

import type { Sandbox } from '../sandbox/sandbox.js';
import { sandboxHandlers } from '../service/handlers.js';
import { injectorHttp2Server, policeSession, streamBudget } from './frame-police.js';

// The VMM (Firecracker, Cloud Hypervisor) connects here on the guest's
// behalf; group access lets it run as another user in the host's group.
const SOCKET_MODE = 0o660;

// HTTP/2 streams one guest connection may have open; calls past the
// sandbox's concurrency limit are refused by admission before this.
const MAX_STREAMS_PER_CONNECTION = 128;

// nghttp2's memory for one connection (MB): headers, frames queued for a
// slow reader. Past it the session refuses new streams.
const MAX_SESSION_MEMORY_MB = 32;



/**
 * The Unix socket of one sandbox, `<udsPath>_<port>`. Whatever connects
 * here is that sandbox: its connections go to a gRPC server whose handlers
 * are bound to it. Without a path, connections come only through accept()
 * (the vsock listener, by peer CID).
 */
export class SandboxListener {
  private readonly grpcServer: grpc.Server;
  private readonly injector: ReturnType<grpc.Server['createConnectionInjector']>;
  private readonly connections = new Set<Socket>();
  private server: Server | undefined;

  private current: Sandbox;

  constructor(sandbox: Sandbox, readonly path: string | undefined) {
    this.current = sandbox;
    const { limits } = sandbox.config;
    this.grpcServer = new grpc.Server({
      'grpc.max_receive_message_length': receiveLimit(sandbox),
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_concurrent_streams': MAX_STREAMS_PER_CONNECTION,
      'grpc-node.max_session_memory': MAX_SESSION_MEMORY_MB,
      'grpc.keepalive_time_ms': limits.keepaliveMs,
      'grpc.keepalive_timeout_ms': Math.max(100, Math.round(limits.keepaliveMs / 3)),
      'grpc.max_connection_idle_ms': limits.idleConnectionMs,
      'grpc.enable_channelz': 0,
    });
    this.grpcServer.addService(portholeService(), sandboxHandlers(() => this.current) as unknown as grpc.UntypedServiceImplementation);
    this.injector = this.grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());

    const http2Server = injectorHttp2Server(this.grpcServer);
    if (http2Server) {
      http2Server.on('session', (session: ServerHttp2Session) => {
        this.current.streamHold.watch(session, MAX_STREAMS_PER_CONNECTION);
        policeSession(session, streamBudget(this.current.config.limits.requestsPerSecond), (kind, count) => {
          this.current.log.warn({ flood: kind, count }, 'connection cut off: control frame flood');
        });
      });
    } else {
      sandbox.log.warn('grpc-js HTTP/2 server not found; control frame flood policing is off');
    }
  }

  /** The sandbox whose policy applies to new calls on this socket. */
  get sandbox(): Sandbox {
    return this.current;
  }

  /**
   * Puts a reloaded policy in force for new calls. It must need the same
   * socket and message size limit (see canServe); calls in progress keep
   * the sandbox they started with.
   */
  swap(next: Sandbox): void {
    this.current = next;
  }

  /** Whether `next` can be served by this listener without a restart. */
  canServe(next: Sandbox, path: string | undefined): boolean {
    const [a, b] = [next.config.limits, this.current.config.limits];
    return path === this.path && receiveLimit(next) === receiveLimit(this.current) &&
      a.keepaliveMs === b.keepaliveMs && a.idleConnectionMs === b.idleConnectionMs;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(): Promise<void> {
    const path = this.path;
    if (path === undefined) return;
    await mkdir(dirname(path), { recursive: true });
    await removeStaleSocket(path);
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    await chmod(path, SOCKET_MODE);
  }

  /** Serves one connection already known to be this sandbox's. */
  accept(socket: Socket): void {
    const { config, log } = this.sandbox;
    const max = config.limits.maxConnections;
    if (this.connections.size >= max) {
      log.warn({ connections: this.connections.size, limit: max }, 'connection refused: too many open');
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    socket.once('close', () => this.connections.delete(socket));
    this.injector.injectConnection(socket);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // server.close waits for open connections, so they are ended first.
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    this.injector.destroy();
    this.grpcServer.forceShutdown();
    for (const socket of this.connections) socket.destroy();
    await closed;
    if (this.path !== undefined) await unlink(this.path).catch(() => undefined);
  }
}

// A fetch request travels in one message, so the limit follows the body
// limit; everything else fits in MAX_MESSAGE_BYTES.
// TODO(limit): grpc-js reads a request message whole before the handler
// runs, so a connection can make the host buffer up to streams x this
// limit before admission refuses anything.
function receiveLimit(sandbox: Sandbox): number {
  return Math.max(MAX_MESSAGE_BYTES, (sandbox.config.fetch?.maxRequestBodyBytes ?? 0) + 64 * 1024);
}

// A socket file left by a previous run is ours to replace; anything else at
// that path is not, and is refused rather than deleted.
async function removeStaleSocket(path: string): Promise<void> {
  const stats = await lstat(path).catch(() => undefined);
  if (!stats) return;
  if (!stats.isSocket()) throw new Error(`${path} exists and is not a socket`);
  await unlink(path);
}
