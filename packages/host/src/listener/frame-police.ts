import { EventEmitter } from 'node:events';
import type { Http2Server, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';

/**
 * How many control frames one guest connection may send per window before
 * it is cut off. A real client sends a handful of PINGs and SETTINGS a
 * minute and resets only the streams it cancels; floods of either cost the
 * host CPU without moving a byte of work.
 */
export const FRAME_BUDGET = {
  windowMs: 10_000,
  pings: 100,
  settings: 100,
  resets: 500,
  /** At least this many calls; more for a sandbox allowed a higher rate. */
  streams: 1_000,
} as const;

// Calls a connection may open per window, as a multiple of what the
// sandbox's request rate admits: retries of refused calls fit, a flood of
// calls that can only be refused does not, and cutting it off stops it
// costing the host a full gRPC call per refusal.
const STREAM_RATE_SLACK = 4;

/** Streams one connection may open per window, for a sandbox's request rate. */
export function streamBudget(requestsPerSecond: number): number {
  return Math.max(FRAME_BUDGET.streams, Math.ceil(requestsPerSecond * (FRAME_BUDGET.windowMs / 1000) * STREAM_RATE_SLACK));
}

export type Violation = 'pings' | 'settings' | 'resets' | 'streams';

/**
 * Watches one HTTP/2 session and destroys it when the peer floods control
 * frames past FRAME_BUDGET.
 */
export function policeSession(
  session: ServerHttp2Session,
  streams: number,
  onViolation: (kind: Violation, count: number) => void,
): void {
  const budget: Record<Violation, number> = { ...FRAME_BUDGET, streams };
  const counts: Record<Violation, number> = { pings: 0, settings: 0, resets: 0, streams: 0 };
  let windowStart = performance.now();
  const count = (kind: Violation): void => {
    const now = performance.now();
    if (now - windowStart > FRAME_BUDGET.windowMs) {
      windowStart = now;
      counts.pings = counts.settings = counts.resets = counts.streams = 0;
    }
    if (++counts[kind] > budget[kind] && !session.destroyed) {
      onViolation(kind, counts[kind]);
      session.destroy();
    }
  };

  // One listener for every stream of the session, not one made per stream;
  // a stream is aborted at most once.
  const reset = (): void => count('resets');
  session.on('ping', () => count('pings'));
  session.on('remoteSettings', () => count('settings'));
  session.on('stream', (stream: ServerHttp2Stream) => {
    count('streams');
    stream.on('aborted', reset);
  });
}

/**
 * The HTTP/2 server grpc-js made for an injector, so its sessions can be
 * watched from their start. grpc-js keeps it in a private map; if a grpc-js
 * update moves it, the host refuses to start (see GuestServer).
 */
export function injectorHttp2Server(grpcServer: object): Http2Server | undefined {
  const servers = (grpcServer as { http2Servers?: Map<unknown, unknown> }).http2Servers;
  const last = servers ? [...servers.keys()].at(-1) : undefined;
  return last instanceof EventEmitter ? (last as Http2Server) : undefined;
}
