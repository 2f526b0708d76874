import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { artifactBytes, MAIN_PREFIX, OTHER_PREFIX } from './policy.js';

/** What the upstream saw of one request a check named by its token. */
export interface Observed {
  arrived: boolean;
  /** The host's request socket closed (or the response was torn down). */
  closed: boolean;
  /** Flood only: body bytes the host's connection accepted so far. */
  sent: number;
  /** Flood only: the last write was refused and is waiting for drain. */
  stalled: boolean;
  /** Flood only: every byte offered was accepted. */
  finished: boolean;
}

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** Body of the chunked and sized routes: not a multiple of 64 KiB. */
export const BIG_BODY = artifactBytes({ name: 'upstream-big', size: 300_000 });
/** Offered by the flood route; a host that buffers it all has no bound. */
export const FLOOD_BYTES = 192 * 1024 * 1024;
const FLOOD_PIECE = Buffer.alloc(64 * 1024, 0x5a);

/**
 * The suite's HTTP upstream on 127.0.0.1. Routes under /c/ serve the main
 * sandbox, under /other/ the other one; anything else is a request the host
 * should never have made and is kept in `strays`.
 */
export class ConformanceUpstream {
  readonly seen: SeenRequest[] = [];
  readonly strays: string[] = [];
  private readonly observed = new Map<string, Observed>();
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens on 127.0.0.1:`port` (0: any free port). */
  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Observations of the request carrying `token`, created on first use. */
  observe(token: string): Observed {
    let entry = this.observed.get(token);
    if (!entry) {
      entry = { arrived: false, closed: false, sent: 0, stalled: false, finished: false };
      this.observed.set(token, entry);
    }
    return entry;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://upstream').pathname;
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      // Bodies the suite sends are small; more is recorded as its size only.
      size += part.length;
      if (size <= 1024 * 1024) parts.push(part);
    });
    req.on('end', () => {
      const body = Buffer.concat(parts);
      this.seen.push({ method: req.method ?? '', path, headers: req.headers, body });
      const prefix = path.startsWith(MAIN_PREFIX) ? MAIN_PREFIX : path.startsWith(OTHER_PREFIX) ? OTHER_PREFIX : undefined;
      if (!prefix) {
        this.strays.push(`${req.method} ${path}`);
        res.writeHead(418).end('this path is outside every fetch rule');
        return;
      }
      this.route(path.slice(prefix.length), prefix, req, res, body);
    });
  }

  private route(rest: string, prefix: string, req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const [name = '', arg = ''] = rest.split('/');
    switch (name) {
      case 'hello': {
        const text = prefix === MAIN_PREFIX ? 'hello from upstream\n' : 'hello other\n';
        res.writeHead(200, { 'content-type': 'text/plain', 'x-conformance': 'yes', 'content-length': text.length });
        res.end(text);
        return;
      }
      case 'echo':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, headers: req.headers, body: body.toString('base64') }));
        return;
      case 'big': // chunked transfer, writes larger than one wire chunk
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let at = 0; at < BIG_BODY.length; at += 100_000) res.write(BIG_BODY.subarray(at, at + 100_000));
        res.end();
        return;
      case 'sized':
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG_BODY.length });
        res.end(BIG_BODY);
        return;
      case 'status':
        res.writeHead(Number(arg) || 500, { 'content-type': 'text/plain' });
        res.end(`status ${arg}\n`);
        return;
      case 'redirect': {
        const left = Number(arg);
        const next = left > 1 ? `${prefix}redirect/${left - 1}` : `${prefix}hello`;
        res.writeHead(302, { location: next }).end();
        return;
      }
      case 'redirect-out': // to a path no rule allows, on the same upstream
        res.writeHead(302, { location: '/outside/after-redirect' }).end();
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        this.track(arg, res);
        return;
      case 'drip':
        this.track(arg, res);
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write('x');
        return;
      case 'flood':
        this.flood(arg, res);
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such route');
    }
  }

  private track(token: string, res: ServerResponse): Observed {
    const entry = this.observe(token);
    entry.arrived = true;
    res.once('close', () => {
      entry.closed = true;
    });
    return entry;
  }

  // Writes until the host's connection stops accepting, then waits for it:
  // `sent` is what the host (and the buffers on its way) took in.
  private flood(token: string, res: ServerResponse): void {
    const entry = this.track(token, res);
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const pump = (): void => {
      entry.stalled = false;
      while (!entry.closed && entry.sent < FLOOD_BYTES) {
        entry.sent += FLOOD_PIECE.length;
        if (!res.write(FLOOD_PIECE)) {
          entry.stalled = true;
          res.once('drain', pump);
          return;
        }
      }
      if (!entry.closed) {
        entry.finished = true;
        res.end();
      }
    };
    pump();
  }
}
