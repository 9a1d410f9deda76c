/**
 * Per-key sliding one-second window by arrival time, the way Tencent counts its rate limit: an
 * arrival at `t` is admitted iff fewer than `limit` counted arrivals lie in (t - windowMs, t].
 *
 * Arrivals may be checked slightly out of order (the simulator stamps a request when it arrives but
 * checks it once its body is read, and background arrivals are stamped on a schedule). So an arrival
 * at `t` is admitted only if every window containing `t` stays within the limit, which for in-order
 * checks is exactly the rule above, and out of order still never lets a window exceed the limit.
 */

/** Milliseconds, monotonic. */
export type Clock = () => number;

/** Wall-clock-anchored monotonic time in ms (not affected by system clock changes). */
export const monotonicClock: Clock = () => performance.timeOrigin + performance.now();

export interface SlidingWindowOptions {
  /** Arrivals allowed in any window. */
  limit: number;
  /** Window length in ms. Default 1000. */
  windowMs?: number;
  /** Whether refused arrivals also count toward later windows. Default false. */
  countThrottled?: boolean;
  /** Time source for `tryAcquire()` without an explicit time. Default `monotonicClock`. */
  clock?: Clock;
  /** Counted arrivals older than this (relative to the newest one of the key) are forgotten. Default 10 000. */
  retainMs?: number;
}

export interface Admission {
  admitted: boolean;
  /** Arrivals in the fullest window containing this one, this one included (the "request times" of the error message). */
  count: number;
}

/** Most counted arrivals kept per key. */
export const MAX_PER_KEY = 20_000;

/** First index whose value is > x (values sorted ascending). */
function upperBound(values: readonly number[], x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose value is >= x. */
function lowerBound(values: readonly number[], x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((values[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SlidingWindow {
  private limit: number;
  private countThrottled: boolean;
  private readonly windowMs: number;
  private readonly clock: Clock;
  private readonly retainMs: number;
  /** Counted arrival times per key, sorted ascending. */
  private readonly arrivals = new Map<string, number[]>();

  constructor(options: SlidingWindowOptions) {
    this.limit = options.limit;
    this.windowMs = options.windowMs ?? 1000;
    this.countThrottled = options.countThrottled ?? false;
    this.clock = options.clock ?? monotonicClock;
    this.retainMs = Math.max(options.retainMs ?? 10_000, 2 * this.windowMs);
  }

  setLimit(limit: number): void {
    this.limit = limit;
  }

  setCountThrottled(countThrottled: boolean): void {
    this.countThrottled = countThrottled;
  }

  /** Decides an arrival at `atMs` (default: now) for `key`, and records it if it counts. */
  tryAcquire(key: string, atMs: number = this.clock()): Admission {
    let times = this.arrivals.get(key);
    if (times === undefined) {
      times = [];
      this.arrivals.set(key, times);
    }
    const count = this.fullestWindowWith(times, atMs) + 1;
    const admitted = count <= this.limit;
    if (admitted || this.countThrottled) {
      times.splice(upperBound(times, atMs), 0, atMs);
      this.prune(times);
    }
    return { admitted, count };
  }

  /** Counted arrivals of `key` in (atMs - windowMs, atMs]. */
  countAt(key: string, atMs: number = this.clock()): number {
    const times = this.arrivals.get(key) ?? [];
    return upperBound(times, atMs) - upperBound(times, atMs - this.windowMs);
  }

  reset(): void {
    this.arrivals.clear();
  }

  /**
   * Most counted arrivals in a window (e - windowMs, e] that would contain `t`, i.e. e in [t, t + windowMs).
   * The count only rises at arrivals, so e = t and the arrivals in (t, t + windowMs) are the candidates.
   */
  private fullestWindowWith(times: readonly number[], t: number): number {
    const w = this.windowMs;
    let start = upperBound(times, t - w);
    let end = upperBound(times, t);
    let best = end - start;
    const stop = lowerBound(times, t + w);
    for (; end < stop; end++) {
      const e = times[end] as number;
      while ((times[start] as number) <= e - w) start++;
      best = Math.max(best, end + 1 - start);
    }
    return best;
  }

  private prune(times: number[]): void {
    const newest = times[times.length - 1];
    if (newest === undefined) return;
    // Bounded whatever arrives: only arrivals near the newest can matter to a window, and beyond
    // MAX_PER_KEY (a flood of refused calls counted) the oldest go first.
    const drop = Math.max(lowerBound(times, newest - this.retainMs), times.length - MAX_PER_KEY);
    if (drop > 0) times.splice(0, drop);
  }
}

/** Most of `timesMs` in any window (e - windowMs, e], by two pointers over the sorted times. */
export function maxInWindow(timesMs: readonly number[], windowMs: number): number {
  const sorted = [...timesMs].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    const e = sorted[end] as number;
    while ((sorted[start] as number) <= e - windowMs) start++;
    best = Math.max(best, end + 1 - start);
  }
  return best;
}
