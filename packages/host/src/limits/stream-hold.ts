import type { ServerHttp2Session } from 'node:http2';

import type { Logger } from 'pino';

// A sandbox held back over and over is logged at most this often.
const LOG_EVERY_MS = 10_000;

/**
 * Holds back new calls on every HTTP/2 connection of one sandbox for a
 * while, by advertising SETTINGS_MAX_CONCURRENT_STREAMS 0, then restores
 * each connection's usual stream limit.
 *
 * A guest that keeps calling while it is refused costs the host a whole
 * gRPC call per refusal. Held, a conforming HTTP/2 client keeps its new
 * calls queued on its own side and sends them when the hold ends, where
 * they are admitted or refused as usual: nothing hangs longer than the
 * hold. Streams already open keep flowing, and PINGs are still answered.
 * A peer that opens streams anyway is refused by nghttp2 itself
 * (REFUSED_STREAM, which grpc-js retries once transparently; past the
 * acknowledged setting, a connection error) without reaching a handler.
 */
export class StreamHold {
  private readonly sessions = new Map<ServerHttp2Session, number>();
  private timer: NodeJS.Timeout | undefined;
  private holds = 0;
  private loggedHolds = 0;
  private loggedAt = -Infinity;

  constructor(private readonly log?: Logger) {}

  /**
   * Follows one connection of the sandbox until it closes; `streams` is
   * its usual limit of concurrent streams, restored after each hold.
   */
  watch(session: ServerHttp2Session, streams: number): void {
    this.sessions.set(session, streams);
    session.once('close', () => this.sessions.delete(session));
    if (this.timer) this.apply(session, 0);
  }

  /**
   * Holds new calls for `ms` from now. A hold in progress is not made
   * longer: calls refused during it were sent before it began.
   */
  hold(ms: number): void {
    if (this.timer) return;
    this.holds++;
    for (const session of this.sessions.keys()) this.apply(session, 0);
    this.timer = setTimeout(() => this.release(), ms);
    this.timer.unref();

    const now = performance.now();
    if (now - this.loggedAt >= LOG_EVERY_MS) {
      this.log?.warn({ holds: this.holds - this.loggedHolds, holdMs: ms }, 'new calls held back: the sandbox keeps calling while refused');
      this.loggedAt = now;
      this.loggedHolds = this.holds;
    }
  }

  private release(): void {
    this.timer = undefined;
    for (const [session, streams] of this.sessions) this.apply(session, streams);
  }

  private apply(session: ServerHttp2Session, maxConcurrentStreams: number): void {
    if (session.closed || session.destroyed) return;
    try {
      session.settings({ maxConcurrentStreams });
    } catch (error) {
      // Node refuses a SETTINGS frame while too many earlier ones are
      // unacknowledged: a peer that never acknowledges settings would
      // otherwise keep the hold from ever taking effect.
      this.log?.warn({ err: error }, 'connection cut off: it does not acknowledge SETTINGS');
      session.destroy();
    }
  }
}
