import type { ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';

import { exitOf, nodeChild } from './node-child.js';

/** One kind of work a load guest repeats; see GUEST below for each. */
export type LoadKind = 'read' | 'write' | 'readwrite' | 'fetch' | 'list' | 'tiny-write' | 'read-hash';

export interface LoadCommand {
  kind: LoadKind;
  /** How long to keep going, in ms. */
  ms: number;
  /** Calls in flight at once. */
  concurrency: number;
  /** read: artifact name; fetch: URLs taken in turn. */
  names?: readonly string[];
  urls?: readonly string[];
  /** write: bytes per output; tiny-write: number of 1-byte chunks. */
  size?: number;
}

export interface LoadResult {
  ops: number;
  bytes: number;
  elapsedMs: number;
  /** Refusals and failures by PortholeError code (or message for others). */
  errors: Record<string, number>;
  /** Latency of successful operations, ms. */
  p50: number;
  p99: number;
  /** First refusal message per code, to tell CPU refusals from rate refusals. */
  messages: Record<string, string>;
}

// A guest process: one JSON command per stdin line, one JSON result per
// stdout line. Retries are off, so every refusal is counted as it comes.
const GUEST = `
import { createInterface } from 'node:readline';
import { connect } from '@porthole/guest';

const porthole = connect({ address: process.env.PORTHOLE_ADDRESS, retry: { attempts: 1 } });
const payloads = new Map();
const payload = (size) => {
  if (!payloads.has(size)) payloads.set(size, Buffer.alloc(size, 7));
  return payloads.get(size);
};
let serial = 0;

async function once(command, i) {
  const name = (command.names ?? ['none'])[i % (command.names?.length ?? 1)];
  switch (command.kind) {
    case 'read': return (await porthole.readArtifactBuffer(name)).length;
    case 'read-hash': {
      const stream = await porthole.readArtifact(name, { length: 0 });
      for await (const _ of stream) {}
      return 0;
    }
    case 'write': return (await porthole.writeOutput(process.env.PREFIX + (serial++ % 16) + '.bin', payload(command.size))).size;
    case 'readwrite':
      if (i % 2 === 0) return (await porthole.readArtifactBuffer(name)).length;
      return (await porthole.writeOutput(process.env.PREFIX + (serial++ % 16) + '.bin', payload(command.size))).size;
    case 'fetch': {
      const url = command.urls[i % command.urls.length];
      return (await (await porthole.fetch(url)).arrayBuffer()).byteLength;
    }
    case 'list': return (await porthole.listArtifacts()).length;
    case 'tiny-write': {
      const one = Buffer.from([1]);
      const chunks = (function* () { for (let c = 0; c < command.size; c++) yield one; })();
      return (await porthole.writeOutput(process.env.PREFIX + 'tiny-' + (serial++ % 16) + '.bin', chunks)).size;
    }
    default: throw new Error('unknown kind ' + command.kind);
  }
}

async function run(command) {
  const started = performance.now();
  const deadline = started + command.ms;
  const latencies = [];
  const errors = {};
  const messages = {};
  let bytes = 0;
  let next = 0;
  async function worker() {
    while (performance.now() < deadline) {
      const i = next++;
      const t = performance.now();
      try {
        bytes += await once(command, i);
        latencies.push(performance.now() - t);
      } catch (error) {
        const code = error?.code ?? String(error?.message ?? error).slice(0, 80);
        errors[code] = (errors[code] ?? 0) + 1;
        messages[code] ??= String(error?.message ?? error).slice(0, 200);
        // A refused caller waits as told, at most 20 ms: it stays a flood.
        const wait = Math.min(Number(error?.retryAfterMs ?? 0), 20);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
  }
  await Promise.all(Array.from({ length: command.concurrency }, worker));
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : NaN;
  return { ops: latencies.length, bytes, elapsedMs: performance.now() - started, errors, p50: at(0.5), p99: at(0.99), messages };
}

for await (const line of createInterface({ input: process.stdin })) {
  const result = await run(JSON.parse(line));
  process.stdout.write(JSON.stringify(result) + '\\n');
}
porthole.close();
`;

/** A guest in its own process, driven one command at a time. */
export class LoadGuest {
  private readonly lines: Interface;
  private readonly waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  private stderr = '';

  private constructor(private readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! });
    this.lines.on('line', (line) => this.waiting.shift()?.resolve(line));
    child.once('exit', () => {
      for (const waiter of this.waiting.splice(0)) waiter.reject(new Error(`load guest exited; stderr: ${this.stderr}`));
    });
    child.stderr!.on('data', (part: Buffer) => {
      this.stderr = (this.stderr + part.toString()).slice(-4000);
    });
  }

  /** `prefix` names this guest's outputs so two guests never share one. */
  static start(address: string, prefix = 'load-'): LoadGuest {
    return new LoadGuest(nodeChild(GUEST, { PORTHOLE_ADDRESS: address, PREFIX: prefix }));
  }

  /** Runs one command; fails if no result comes within its time plus `graceMs`. */
  async run(command: LoadCommand, graceMs = 20_000): Promise<LoadResult> {
    const line = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`load guest gave no result in time; stderr: ${this.stderr}`)), command.ms + graceMs);
      this.waiting.push({
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
    return JSON.parse(await line) as LoadResult;
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    this.lines.close();
    await exitOf(this.child, 5_000);
  }
}
