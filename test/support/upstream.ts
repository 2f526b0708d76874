import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Route = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

/** A real HTTP server on 127.0.0.1 playing an upstream API, one route per path. */
export class Upstream {
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  constructor(private readonly routes: Record<string, Route>) {
    this.server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        const body = Buffer.concat(parts);
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const route = this.routes[new URL(req.url ?? '/', 'http://x').pathname];
        if (route) route(req, res, body);
        else res.writeHead(404).end('no route');
      });
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens on an ephemeral port of a loopback address. */
  async listen(address = '127.0.0.1'): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, address, resolve));
    return this;
  }

  get address(): string {
    return (this.server.address() as AddressInfo).address;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get origin(): string {
    return `http://${this.address}:${this.port}`;
  }

  get openConnections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
