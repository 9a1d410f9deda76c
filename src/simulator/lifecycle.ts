/**
 * The simulator's lifetime: whether it is closed, and the timers (arrival jitter, answer latency) that
 * `close()` cancels, so that nothing is answered once it is closed.
 */
export class Lifecycle {
  private isClosed = false;
  /** Timers not yet fired; `close()` clears them. */
  private readonly pending = new Set<NodeJS.Timeout>();

  get closed(): boolean {
    return this.isClosed;
  }

  /** Runs `fn` after `ms`, unless the simulator is closed first. */
  after(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, ms);
    this.pending.add(timer);
  }

  /** Resolves after `ms`; never resolves when the simulator is closed first. */
  delay(ms: number): Promise<void> {
    return new Promise<void>((resolve) => this.after(ms, resolve));
  }

  /** Marks the simulator closed and cancels every pending timer; false if it already was closed. */
  close(): boolean {
    if (this.isClosed) return false;
    this.isClosed = true;
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
    return true;
  }
}
