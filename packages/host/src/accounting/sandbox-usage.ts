/** What the host spent for one sandbox since it started. */
export interface UsageSnapshot {
  calls: number;
  denied: number;
  failed: number;
  /** Payload bytes from the guest: outputs, fetch request bodies. */
  bytesIn: number;
  /** Payload bytes to the guest: artifacts, fetch response bodies. */
  bytesOut: number;
  /** Time upstream servers took to answer this sandbox's fetches. */
  upstreamMs: number;
  /** Host CPU time used while this sandbox's calls ran. */
  cpuMs: number;
}

export type CallCost = Pick<UsageSnapshot, 'bytesIn' | 'bytesOut' | 'upstreamMs' | 'cpuMs'>;

/** Running totals of one sandbox's calls, for the accounting API. */
export class SandboxUsage {
  private readonly totals: UsageSnapshot = { calls: 0, denied: 0, failed: 0, bytesIn: 0, bytesOut: 0, upstreamMs: 0, cpuMs: 0 };

  record(decision: 'allowed' | 'denied' | 'failed', cost: CallCost): void {
    const t = this.totals;
    t.calls++;
    if (decision === 'denied') t.denied++;
    if (decision === 'failed') t.failed++;
    t.bytesIn += cost.bytesIn;
    t.bytesOut += cost.bytesOut;
    t.upstreamMs += cost.upstreamMs;
    t.cpuMs += cost.cpuMs;
  }

  snapshot(): UsageSnapshot {
    return { ...this.totals };
  }
}
