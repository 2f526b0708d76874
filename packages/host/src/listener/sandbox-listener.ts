import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';

import type { Sandbox } from '../sandbox/sandbox.js';
import type { GuestServer } from './guest-server.js';
import { connectionOptions, keyOf, type GuestServers } from './guest-servers.js';

// The VMM (Firecracker, Cloud Hypervisor) connects here on the guest's
// behalf; group access lets it run as another user in the host's group.
const SOCKET_MODE = 0o660;

// How long a socket left in the way may take to answer before it counts
// as in use.
const PROBE_TIMEOUT_MS = 1000;

/**
 * The Unix socket of one sandbox, `<udsPath>_<port>`. Whatever connects
 * here is that sandbox: its connections go to a gRPC server that answers
 * their calls under this listener's sandbox. Without a path, connections
 * come only through accept() (the vsock listener, by peer CID).
 */
export class SandboxListener {
  private readonly guestServer: GuestServer;
  private readonly connections = new Set<Socket>();
  private server: Server | undefined;
  private closed = false;

  private current: Sandbox;

  constructor(sandbox: Sandbox, readonly path: string | undefined, private readonly guestServers: GuestServers) {
    this.current = sandbox;
    this.guestServer = guestServers.acquire(sandbox);
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
    return path === this.path && keyOf(connectionOptions(next)) === keyOf(this.guestServer.options);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async listen(): Promise<void> {
    const path = this.path;
    if (path === undefined) return;
    if (await checkSocketPath(path)) await unlink(path);
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
    this.guestServer.inject(socket, this);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const server = this.server;
    this.server = undefined;
    // server.close waits for open connections, so they are ended first.
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const socket of this.connections) socket.destroy();
    this.guestServers.release(this.guestServer);
    await closed;
    // Only a socket this listener made is removed: a path it never bound
    // may be another host's.
    if (server && this.path !== undefined) await unlink(this.path).catch(() => undefined);
  }
}

/**
 * Checks that a listener can take `path`, changing nothing but making its
 * folder; returns whether a socket file a previous run left is there to
 * replace. Anything else at that path is not ours, and is refused rather
 * than deleted; so is a socket that still answers, which belongs to a
 * running host whose guests would lose it.
 */
export async function checkSocketPath(path: string): Promise<boolean> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`${path}: its folder ${folder} cannot be made (${error.code ?? error.message})`);
  });
  const stats = await lstat(path).catch(() => undefined);
  if (!stats) return false;
  if (!stats.isSocket()) throw new Error(`${path} exists and is not a socket`);
  if (await answers(path)) throw new Error(`${path} is in use: another process listens on it (a second host on the same config?)`);
  return true;
}

/** Whether something accepts connections on the Unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    const done = (listening: boolean): void => {
      clearTimeout(timer);
      probe.destroy();
      resolve(listening);
    };
    // A listener with a full backlog is still a listener.
    const timer = setTimeout(() => done(true), PROBE_TIMEOUT_MS);
    probe.once('connect', () => done(true));
    probe.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'EAGAIN'));
  });
}
