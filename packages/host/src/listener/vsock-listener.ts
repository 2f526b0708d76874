import type { HostConfig } from '@porthole/shared';
import type { VsockServer, VsockSocket } from '@porthole/vsock';
import type { Logger } from 'pino';

import type { SandboxListener } from './sandbox-listener.js';

export type VsockListenConfig = NonNullable<HostConfig['vsock']>;

/**
 * The host's AF_VSOCK listener for QEMU vhost-vsock deployments. The peer
 * CID of each connection, as the kernel reports it on accept, picks the
 * sandbox; nothing the guest sends takes part. A CID no sandbox has is
 * closed at once and logged.
 */
export class VsockListener {
  private server: VsockServer | undefined;

  constructor(
    readonly config: VsockListenConfig,
    private readonly byCid: ReadonlyMap<number, SandboxListener>,
    private readonly log: Logger,
  ) {}

  async listen(): Promise<void> {
    // Loaded here so hosts without a vsock listener never load the addon.
    const vsock = await import('@porthole/vsock');
    const { port, cid } = this.config;
    const server = vsock.createServer({}, (socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        resolve();
      });
      server.listen(port, cid === undefined ? {} : { cid });
    });
    server.on('error', (error) => this.log.error({ err: error }, 'vsock listener error'));
    this.server = server;
  }

  private accept(socket: VsockSocket): void {
    const cid = socket.remoteCid;
    const target = cid === undefined ? undefined : this.byCid.get(cid);
    if (!target) {
      this.log.warn({ cid, port: socket.remotePort }, 'vsock connection closed: no sandbox has this CID');
      socket.destroy();
      return;
    }
    target.accept(socket);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // Open connections belong to their sandbox listeners, which end them.
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
