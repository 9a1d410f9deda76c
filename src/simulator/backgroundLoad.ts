/**
 * Another consumer of the same keys (`backgroundRps`): one per sub-account of the configured keys,
 * arriving at start + k * 1000 / rps through the same windows as real calls. The arrivals are replayed
 * up to each real arrival before it is checked (so order is exact), and by a timer when no calls come
 * in. They are not calls (not in `calls()`); `stats()` counts them.
 */
import type { SimulatorFaults } from './options';
import type { RateCounter } from './rateCounter';
import { SCAN_ACTION } from './scanAction';
import type { Clock } from './slidingWindow';

export interface BackgroundCounts {
  arrivals: number;
  admitted: number;
  throttled: number;
}

export interface BackgroundSource {
  /** The faults now in force (backgroundRps, rateLimit), read at each use. */
  faults: () => Readonly<Required<SimulatorFaults>>;
  /** The sub-accounts of the configured keys, one background consumer each. */
  principals: () => string[];
  rate: RateCounter;
  clock: Clock;
}

export class BackgroundLoad {
  readonly counts: BackgroundCounts = { arrivals: 0, admitted: 0, throttled: 0 };
  /** Admitted arrival times per principal, for the stats' windows; only the last seconds are kept. */
  readonly admittedTimes = new Map<string, number[]>();
  private start: number;
  /** Arrivals replayed since `start`. */
  private emitted = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly source: BackgroundSource) {
    this.start = source.clock();
    this.restart();
  }

  /** Replays the arrivals due up to `upTo`. */
  catchUp(upTo: number): void {
    const rps = this.source.faults().backgroundRps;
    if (rps <= 0) return;
    const spacing = 1000 / rps;
    // After a long stall, forget the backlog beyond what any window can still see.
    const oldestUseful = upTo - 2000;
    if (this.start + this.emitted * spacing < oldestUseful)
      this.emitted = Math.ceil((oldestUseful - this.start) / spacing);
    for (let t = this.start + this.emitted * spacing; t <= upTo; t = this.start + ++this.emitted * spacing) {
      for (const principal of this.source.principals()) this.arrive(principal, t);
    }
  }

  /** Starts again from now, at the current backgroundRps (no timer once stopped). */
  restart(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.start = this.source.clock();
    this.emitted = 0;
    const rps = this.source.faults().backgroundRps;
    if (rps <= 0 || this.stopped) return;
    const tickMs = Math.min(100, Math.max(10, 1000 / rps));
    this.timer = setInterval(() => this.catchUp(this.source.clock()), tickMs);
    this.timer.unref();
  }

  /** Clears the counters and starts again. */
  reset(): void {
    this.counts.arrivals = 0;
    this.counts.admitted = 0;
    this.counts.throttled = 0;
    this.admittedTimes.clear();
    this.restart();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private arrive(principal: string, t: number): void {
    this.counts.arrivals++;
    if (!this.source.rate.admit(principal, SCAN_ACTION, t).admitted) {
      this.counts.throttled++;
      return;
    }
    this.counts.admitted++;
    const times = this.admittedTimes.get(principal) ?? [];
    times.push(t);
    // Only the last seconds matter to any window: the list stays short.
    const keep = 4 * this.source.faults().rateLimit + 100;
    if (times.length > keep) times.splice(0, times.length - keep);
    this.admittedTimes.set(principal, times);
  }
}
