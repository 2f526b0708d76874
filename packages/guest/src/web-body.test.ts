import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as grpc from '@grpc/grpc-js';
import { PortholeError, portholeClientClass, portholeService, type wire } from '@porthole/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openWebBody } from './web-body.js';

type FetchCall = grpc.ServerWritableStream<wire.FetchUrlRequest, wire.FetchUrlResponse>;

const CHUNK = Buffer.alloc(64 * 1024, 7);
const HEAD = { status: 200, statusText: '', headers: [], finalUrl: 'http://example.test/', redirects: 0, contentLength: -1 };

/**
 * A FetchUrl server whose behaviour each test picks by URL path, and what
 * it saw: bytes it managed to write, and whether the client cancelled.
 */
interface Seen {
  written: number;
  /** grpc-js reports 'cancelled' after every call, also one that ended. */
  cancelled: boolean;
  ended: boolean;
}

describe('openWebBody', () => {
  let dir: string;
  let server: grpc.Server;
  let client: InstanceType<ReturnType<typeof portholeClientClass>>;
  const seen = new Map<string, Seen>();

  function serve(call: FetchCall): void {
    const path = new URL(call.request.url).pathname;
    const state: Seen = { written: 0, cancelled: false, ended: false };
    seen.set(path, state);
    call.on('cancelled', () => (state.cancelled = true));
    if (path === '/no-head') {
      call.write({ chunk: CHUNK });
      call.end();
      return;
    }
    if (path === '/refused') {
      call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: 'not for you' });
      return;
    }
    call.write({ head: HEAD });
    // Writes 64 KiB chunks for as long as the client takes them, up to 64 MiB.
    const limit = path === '/three' ? 3 : 1024;
    let sent = 0;
    const pump = (): void => {
      while (sent < limit && !state.cancelled) {
        sent++;
        state.written += CHUNK.length;
        if (!call.write({ chunk: CHUNK })) return void call.once('drain', pump);
      }
      if (state.cancelled) return;
      state.ended = true;
      call.end();
    };
    pump();
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'porthole-web-body-'));
    server = new grpc.Server();
    server.addService(portholeService(), { FetchUrl: serve } as unknown as grpc.UntypedServiceImplementation);
    const address = `unix:${join(dir, 'host.sock')}`;
    await new Promise<void>((resolve, reject) => {
      server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve()));
    });
    const Client = portholeClientClass();
    client = new Client(address, grpc.credentials.createInsecure(), { 'grpc-node.flow_control_window': 4 * 1024 * 1024 });
  });

  afterAll(async () => {
    client?.close();
    server?.forceShutdown();
    await rm(dir, { recursive: true, force: true });
  });

  const open = (path: string, signal?: AbortSignal) => openWebBody(client.fetchUrl({ url: `http://example.test${path}` }), 'head', signal);

  async function readAll(body: ReadableStream<Uint8Array>): Promise<number> {
    let bytes = 0;
    for await (const part of body) bytes += part.length;
    return bytes;
  }

  const until = async (check: () => boolean, what: string): Promise<void> => {
    for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    if (!check()) throw new Error(`timed out waiting for ${what}`);
  };

  it('resolves with the head, then gives every chunk and ends', async () => {
    const { head, body } = await open('/three');
    expect(head.status).toBe(200);
    expect(await readAll(body)).toBe(3 * CHUNK.length);
  });

  it('rejects with the host\'s error when the call fails before the head', async () => {
    const failure = await open('/refused').then(() => undefined, (error: unknown) => error);
    expect(failure).toBeInstanceOf(PortholeError);
    expect(failure).toMatchObject({ message: 'not for you' });
  });

  it('refuses a stream that does not start with a head', async () => {
    await expect(open('/no-head')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'the host\'s stream did not start with a head' });
  });

  it('holds the host back while nobody reads, then gives every byte', async () => {
    const { body } = await open('/many');
    // Nothing reads: what the host writes is bounded by the body's buffer,
    // the call's queue and the HTTP/2 windows, not by the 64 MiB it has.
    await until(() => (seen.get('/many')?.written ?? 0) > 0, 'the first writes');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const heldBack = seen.get('/many')!.written;
    expect(heldBack).toBeLessThan(16 * 1024 * 1024);
    expect(await readAll(body)).toBe(1024 * CHUNK.length);
  });

  it('cancels the call when the reader stops early', async () => {
    const { body } = await open('/stopped');
    const reader = body.getReader();
    await reader.read();
    await reader.cancel();
    await until(() => seen.get('/stopped')?.cancelled === true, 'the host to see the cancel');
    expect(seen.get('/stopped')?.ended).toBe(false);
  });

  it('cancels the call when the signal aborts, and the read fails with UNAVAILABLE', async () => {
    const controller = new AbortController();
    const { body } = await open('/aborted', controller.signal);
    const reader = body.getReader();
    await reader.read();
    controller.abort();
    let failure: unknown;
    for (let i = 0; i < 2000 && failure === undefined; i++) {
      failure = await reader.read().then((r) => (r.done ? new Error('the body ended') : undefined), (error: unknown) => error);
    }
    expect(failure).toMatchObject({ code: 'UNAVAILABLE' });
    await until(() => seen.get('/aborted')?.cancelled === true, 'the host to see the cancel');
    expect(seen.get('/aborted')?.ended).toBe(false);
  });
});
