import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** When to cut one connection, counted in bytes relayed in one direction. */
export interface CutRule {
  direction: 'toHost' | 'toGuest';
  /** Cut once this many more bytes went through, forwarding up to there. */
  afterBytes?: number;
  /**
   * Cut, forwarding nothing of it, at the first chunk holding this text:
   * with the output's name going to the guest, the host committed the write
   * and its answer is lost.
   */
  containing?: string;
}

/**
 * A Unix socket proxy in front of a host socket that a test can cut, the
 * way a VMM restart or snapshot restore resets a guest's vsock connections.
 */
export class CutProxy {
  /** Connections accepted so far, refused ones included. */
  accepted = 0;
  /** While true, every new connection is accepted and dropped at once. */
  down = false;
  private readonly pairs = new Set<[Socket, Socket]>();
  private rules: (CutRule & { seen: number })[] = [];

  private constructor(readonly path: string, private readonly server: Server, private readonly target: string) {
    server.on('connection', (guest) => this.relay(guest));
  }

  static async start(target: string, path: string): Promise<CutProxy> {
    const server = createServer();
    server.listen(path);
    await once(server, 'listening');
    return new CutProxy(path, server, target);
  }

  /**
   * Cuts the connection that first carries `afterBytes` more in `direction`
   * from now on (an open one or a later one), once.
   */
  cutOnce(rule: CutRule): void {
    this.rules.push({ ...rule, seen: 0 });
  }

  /** Cuts made by rules so far. */
  cuts = 0;

  /** Resets every open connection now. */
  cutAll(): void {
    for (const [guest, host] of this.pairs) {
      guest.destroy();
      host.destroy();
    }
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(guest: Socket): void {
    this.accepted++;
    guest.on('error', () => undefined);
    if (this.down) {
      guest.destroy();
      return;
    }
    const host = connect(this.target);
    host.on('error', () => undefined);
    const pair: [Socket, Socket] = [guest, host];
    this.pairs.add(pair);
    const cut = (): void => {
      guest.destroy();
      host.destroy();
    };
    guest.once('close', cut);
    host.once('close', cut);
    guest.once('close', () => this.pairs.delete(pair));

    const forward = (from: Socket, to: Socket, direction: 'toHost' | 'toGuest'): void => {
      from.on('data', (data: Buffer) => {
        const rule = this.rules.find((r) => r.direction === direction);
        const hit = rule && (rule.containing !== undefined
          ? data.includes(rule.containing)
          : rule.seen + data.length >= (rule.afterBytes ?? 0));
        if (rule && hit) {
          this.rules.splice(this.rules.indexOf(rule), 1);
          this.cuts++;
          if (rule.afterBytes !== undefined) to.write(data.subarray(0, rule.afterBytes - rule.seen));
          cut();
          return;
        }
        if (rule) rule.seen += data.length;
        if (!to.write(data)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
    };
    forward(guest, host, 'toHost');
    forward(host, guest, 'toGuest');
  }
}
