/** Raised when a sandbox or the host holds all the upstream sockets it may. */
export class UpstreamBusy extends Error {
  override readonly name = 'UpstreamBusy';
  constructor(message: string, readonly limit: number, readonly retryAfterMs: number) {
    super(message);
  }
}

// Pooled sockets idle out after undici's keep-alive timeout (4 s); a
// refused caller is told to come back well within that.
const RETRY_AFTER_MS = 250;

/**
 * Counts open upstream sockets against a cap: one budget per sandbox, whose
 * parent is the host's. A socket takes a slot from both before it is opened
 * and gives them back when it closes, so no guest can make the host hold
 * more than policy says.
 */
export class ConnectionBudget {
  private open = 0;

  /** @param owner what the cap belongs to, for messages: "this sandbox". */
  constructor(readonly limit: number, private readonly owner: string, private readonly parent?: ConnectionBudget) {}

  get inUse(): number {
    return this.open;
  }

  /** Takes a slot here and in every parent, or throws UpstreamBusy. */
  acquire(): () => void {
    if (this.open >= this.limit) {
      throw new UpstreamBusy(`${this.open} upstream connections are open for ${this.owner}, the limit is ${this.limit}`, this.limit, RETRY_AFTER_MS);
    }
    const releaseParent = this.parent?.acquire();
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
      releaseParent?.();
    };
  }
}
