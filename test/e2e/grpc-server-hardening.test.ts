import { connect as netConnect } from 'node:net';
import { once } from 'node:events';
import { connect as h2connect, constants } from 'node:http2';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { eventually } from '../support/node-child.js';
import { sandboxEntry, TestHost } from '../support/host-fixture.js';
import { FLAG, FRAME, RawH2 } from '../support/raw-h2.js';

const FLOOD = 2000;

describe('the gRPC server under hostile peers', () => {
  let host: TestHost | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  async function start(limits: Record<string, unknown> = {}): Promise<TestHost> {
    host = await TestHost.start({ sandboxes: [sandboxEntry('alpha', { limits }), sandboxEntry('beta')] });
    return host;
  }

  const socketOf = (h: TestHost, id = 'alpha'): string => h.address(id).slice('unix:'.length);

  /** Floods with `send` until the host closes the connection, bounded by FLOOD frames. */
  async function flood(peer: RawH2, send: (i: number) => void): Promise<number> {
    let sent = 0;
    for (; sent < FLOOD && !peer.isClosed; sent++) {
      send(sent);
      if (sent % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.race([peer.closed, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    return sent;
  }

  async function stillServes(h: TestHost): Promise<void> {
    expect((await h.client('alpha').hello()).sandboxId).toBe('alpha');
    expect((await h.client('beta').hello()).sandboxId).toBe('beta');
  }

  it.each([
    ['PING', (peer: RawH2, i: number) => peer.frame(FRAME.PING, 0, 0, Buffer.alloc(8, i & 0xff))],
    ['SETTINGS', (peer: RawH2) => peer.frame(FRAME.SETTINGS, 0, 0, Buffer.alloc(0))],
    ['RST_STREAM', (peer: RawH2, i: number) => {
      const stream = 2 * i + 1;
      peer.frame(FRAME.HEADERS, FLAG.END_HEADERS, stream, RawH2.grpcHeaders('Hello'));
      peer.frame(FRAME.RST_STREAM, 0, stream, Buffer.from([0, 0, 0, 8]));
    }],
  ])('cuts off a peer flooding %s frames and keeps serving the others', async (_kind, send) => {
    const h = await start();
    const peer = await RawH2.open(socketOf(h));
    const sent = await flood(peer, (i) => send(peer, i));
    expect(peer.isClosed).toBe(true);
    expect(sent).toBeLessThan(FLOOD);
    await stillServes(h);
  });

  it('cuts off a peer opening calls far past its request rate', async () => {
    const h = await start({ requestsPerSecond: 10, burst: 10 });
    const peer = await RawH2.open(socketOf(h));
    // Each HEADERS frame with END_STREAM is a whole (empty) call.
    const sent = await flood(peer, (i) => peer.frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 2 * i + 1, RawH2.grpcHeaders('Hello')));
    expect(peer.isClosed).toBe(true);
    expect(sent).toBeLessThan(FLOOD);
    await stillServes(h);
  });

  it('cuts off a peer sending endless CONTINUATION frames', async () => {
    const h = await start();
    const peer = await RawH2.open(socketOf(h));
    peer.frame(FRAME.HEADERS, 0, 1, RawH2.grpcHeaders('Hello'));
    const pad = RawH2.literal('x-pad', 'p'.repeat(100));
    const sent = await flood(peer, () => peer.frame(FRAME.CONTINUATION, 0, 1, pad));
    expect(peer.isClosed).toBe(true);
    expect(sent).toBeLessThan(FLOOD);
    await stillServes(h);
  });

  it('closes a guest connection that makes no call for idleConnectionMs', async () => {
    const h = await start({ idleConnectionMs: 300, keepaliveMs: 3_600_000 });
    const peer = await RawH2.open(socketOf(h));
    // A peer that connects and never calls (pings are off for this test).
    const started = performance.now();
    await Promise.race([peer.closed, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    expect(peer.isClosed).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    await stillServes(h);
  });

  it("applies a sandbox's idle bound to its own connections only", async () => {
    const h = await start({ idleConnectionMs: 300, keepaliveMs: 3_600_000 });
    const [alpha, beta] = [await RawH2.open(socketOf(h)), await RawH2.open(socketOf(h, 'beta'))];
    await Promise.race([alpha.closed, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    expect(alpha.isClosed).toBe(true);
    // beta has the default bounds: 15 minutes idle, a ping after 60 s.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(beta.isClosed).toBe(false);
    beta.destroy();
  });

  it('closes a guest connection that stops answering keepalive pings', async () => {
    const h = await start({ keepaliveMs: 300 });
    // RawH2 never answers the host's PING frames.
    const peer = await RawH2.open(socketOf(h));
    await Promise.race([peer.closed, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    expect(peer.isClosed).toBe(true);
    expect(peer.bytesReceived).toBeGreaterThan(0);
    await stillServes(h);
  });

  it('refuses connections past the sandbox limit, and serves again when one closes', async () => {
    const h = await start({ maxConnections: 2 });
    const held = [await RawH2.open(socketOf(h)), await RawH2.open(socketOf(h))];
    const extra = await RawH2.open(socketOf(h));
    await Promise.race([extra.closed, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    expect(extra.isClosed).toBe(true);
    // Another sandbox is not affected by alpha's connections.
    expect((await h.client('beta').hello()).sandboxId).toBe('beta');

    held[0]!.destroy();
    await eventually(async () => h.service.sandboxes.get('alpha') !== undefined && (await tryHello(h)), 'alpha accepts a connection again');
    held[1]!.destroy();
  });

  it('ends a call whose reader never opens its flow-control window', async () => {
    const h = await start({ stallTimeoutMs: 300 });
    await writeFile(join(h.artifacts(), 'big.bin'), Buffer.alloc(4 * 1024 * 1024, 1));
    const session = h2connect('http://localhost', {
      createConnection: () => netConnect(socketOf(h)),
      settings: { initialWindowSize: 0 },
    });
    session.on('error', () => undefined);
    const name = Buffer.from('big.bin');
    const message = Buffer.concat([Buffer.from([0x0a, name.length]), name]);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const request = session.request({
      ':method': 'POST', ':path': '/porthole.v1.Porthole/ReadArtifact',
      'content-type': 'application/grpc', te: 'trailers',
    });
    request.on('error', () => undefined);
    request.pause();
    request.end(frame);

    await eventually(async () => (await h.audit()).some((e) => e.target === 'big.bin'), 'the host gave up on the stalled read');
    const entry = (await h.audit()).find((e) => e.target === 'big.bin');
    expect(entry).toMatchObject({ decision: 'failed', reason: 'TIMEOUT', message: 'the guest read nothing for 300 ms' });
    expect(entry!.bytes).toBeLessThan(4 * 1024 * 1024);
    await stillServes(h);
    request.close(constants.NGHTTP2_CANCEL);
    session.destroy();
    await once(session, 'close');
  });
});

async function tryHello(h: TestHost): Promise<boolean> {
  const { connect } = await import('@porthole/guest');
  const client = connect({ address: h.address('alpha') });
  try {
    await client.hello();
    return true;
  } catch {
    return false;
  } finally {
    client.close();
  }
}
