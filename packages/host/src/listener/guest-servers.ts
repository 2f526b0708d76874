import { MAX_MESSAGE_BYTES } from '@porthole/shared';
import type { Logger } from 'pino';

import type { Sandbox } from '../sandbox/sandbox.js';
import { GuestServer, type ConnectionOptions } from './guest-server.js';

/**
 * The host's gRPC servers, one per distinct ConnectionOptions: sandboxes
 * with the same limits share one, however many there are.
 */
export class GuestServers {
  private readonly servers = new Map<string, { server: GuestServer; users: number }>();

  constructor(private readonly log: Logger) {}

  /** A server for `sandbox`'s connections; give it back with release(). */
  acquire(sandbox: Sandbox): GuestServer {
    const options = connectionOptions(sandbox);
    const key = keyOf(options);
    let entry = this.servers.get(key);
    if (!entry) {
      entry = { server: new GuestServer(options, this.log), users: 0 };
      this.servers.set(key, entry);
    }
    entry.users++;
    return entry.server;
  }

  /** Closes the server once no listener uses it; their connections are gone by then. */
  release(server: GuestServer): void {
    const key = keyOf(server.options);
    const entry = this.servers.get(key);
    if (entry?.server !== server || --entry.users > 0) return;
    this.servers.delete(key);
    server.close();
  }
}

/** What a sandbox's connections need of the server that serves them. */
export function connectionOptions(sandbox: Sandbox): ConnectionOptions {
  const { limits, fetch } = sandbox.config;
  return {
    // A fetch request travels in one message, so the limit follows the body
    // limit; everything else fits in MAX_MESSAGE_BYTES.
    // TODO(limit): grpc-js reads a request message whole before the handler
    // runs, so a connection can make the host buffer up to streams x this
    // limit before admission refuses anything.
    receiveLimit: Math.max(MAX_MESSAGE_BYTES, (fetch?.maxRequestBodyBytes ?? 0) + 64 * 1024),
    keepaliveMs: limits.keepaliveMs,
    idleConnectionMs: limits.idleConnectionMs,
  };
}

export function keyOf(options: ConnectionOptions): string {
  return `${options.receiveLimit}/${options.keepaliveMs}/${options.idleConnectionMs}`;
}
