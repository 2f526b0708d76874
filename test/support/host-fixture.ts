import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { connect, type Porthole } from '@porthole/guest';
import {
  createHostService,
  resolvePaths,
  type AuditEntry,
  type HostService,
  type Resolver,
} from '@porthole/host';
import { validateHostConfig, type HostConfig } from '@porthole/shared';
import { pino } from 'pino';

import { tempDir } from './temp-dir.js';

export interface FixtureOptions {
  /** Raw sandbox entries as a config file would hold them; paths relative to the temp dir. */
  sandboxes?: Record<string, unknown>[];
  resolver?: Resolver;
  /** Host-wide limits, as in the config file. */
  limits?: Record<string, unknown>;
}

/** Only loopback may ever be dialled by a test host. */
const isLoopback = (address: string): boolean => address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address);

/** The config entry of a sandbox with artifacts and outputs in the temp dir. */
export function sandboxEntry(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    listen: { udsPath: `run/${id}.vsock`, port: 52 },
    artifacts: `${id}/artifacts`,
    outputs: { dir: `${id}/outputs`, maxBytes: '64MiB', maxFiles: 100, maxFileBytes: '16MiB' },
    ...extra,
  };
}

/**
 * A real host service on real Unix sockets in a temporary folder, with
 * clients that go through those sockets. stop() fails if the host dialled
 * anything but loopback or left temporary files behind.
 */
export class TestHost {
  readonly clients: Porthole[] = [];

  private constructor(
    readonly dir: string,
    readonly config: HostConfig,
    private current: HostService,
    private readonly create: () => HostService,
    /** Every address the host was about to connect to. */
    readonly dialled: string[],
    private readonly removeDir: () => Promise<void>,
  ) {}

  static async start(options: FixtureOptions = {}): Promise<TestHost> {
    const temp = await tempDir('host');
    const sandboxes = options.sandboxes ?? [sandboxEntry('alpha')];
    const result = validateHostConfig({ audit: { path: 'audit.jsonl' }, logLevel: 'silent', sandboxes, ...(options.limits ? { limits: options.limits } : {}) });
    if (!result.ok) throw new Error(`fixture config: ${JSON.stringify(result.issues)}`);
    const config = resolvePaths(result.config, temp.path);
    for (const sandbox of config.sandboxes) {
      if (sandbox.artifacts) await mkdir(sandbox.artifacts, { recursive: true });
    }

    const dialled: string[] = [];
    const create = (): HostService => createHostService({
      config,
      logger: pino({ level: 'silent' }),
      ...(options.resolver ? { resolver: options.resolver } : {}),
      egressGuard: (address) => {
        dialled.push(address);
        if (!isLoopback(address)) throw new Error(`test host tried to dial ${address}`);
      },
    });
    const service = create();
    await service.listen();
    return new TestHost(temp.path, config, service, create, dialled, temp.remove);
  }

  get service(): HostService {
    return this.current;
  }

  /** Puts new sandbox entries in force on the running service, as SIGHUP does. */
  async reload(sandboxes: Record<string, unknown>[], limits?: Record<string, unknown>): Promise<unknown> {
    const result = validateHostConfig({ audit: { path: 'audit.jsonl' }, logLevel: 'silent', sandboxes, ...(limits ? { limits } : {}) });
    if (!result.ok) throw new Error(`fixture config: ${JSON.stringify(result.issues)}`);
    const next = resolvePaths(result.config, this.dir);
    for (const sandbox of next.sandboxes) {
      if (sandbox.artifacts) await mkdir(sandbox.artifacts, { recursive: true });
    }
    return this.current.reload(next);
  }

  /** Stops the service and starts a new one over the same folders. */
  async restart(beforeStart?: () => Promise<void>): Promise<void> {
    for (const client of this.clients.splice(0)) client.close();
    await this.current.close();
    await beforeStart?.();
    this.current = this.create();
    await this.current.listen();
  }

  address(id = 'alpha'): string {
    return `unix:${this.service.sockets.get(id)}`;
  }

  client(id = 'alpha'): Porthole {
    const client = connect({ address: this.address(id) });
    this.clients.push(client);
    return client;
  }

  artifacts(id = 'alpha'): string {
    return join(this.dir, id, 'artifacts');
  }

  outputs(id = 'alpha'): string {
    return join(this.dir, id, 'outputs');
  }

  /** Files in the outputs folder, without the host's own bookkeeping. */
  async outputNames(id = 'alpha'): Promise<string[]> {
    return (await readdir(this.outputs(id))).filter((name) => name !== '.porthole').sort();
  }

  /** Temporary files of writes in progress or left behind. */
  async temporaries(id = 'alpha'): Promise<string[]> {
    return readdir(join(this.outputs(id), '.porthole/tmp'));
  }

  async audit(): Promise<AuditEntry[]> {
    this.service.flushAudit();
    const text = await readFile(join(this.dir, 'audit.jsonl'), 'utf8').catch(() => '');
    return text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEntry);
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.close();
    try {
      await this.service.close();
    } finally {
      await this.removeDir();
    }
    const strays = this.dialled.filter((a) => !isLoopback(a));
    if (strays.length > 0) throw new Error(`the host dialled non-loopback addresses: ${strays.join(', ')}`);
  }
}
