/**
 * What a run's calls say, computed from the simulator's call log (arrival times by the simulator's
 * clock): rates over the busy period and the fullest 1000 ms window.
 */
import type { SimulatorCall } from '../src/simulator';
import { maxInWindow } from '../src/simulator';

export const THROTTLED = 'RequestLimitExceeded';

export interface CallSummary {
  /** Calls that reached the simulator (throttled included). */
  calls: number;
  /** Answered with a TaskId. */
  accepted: number;
  /** Answered RequestLimitExceeded. */
  throttled: number;
  /** Any other answer. */
  otherErrors: number;
  /** First to last arrival, seconds. */
  busySeconds: number;
  /** All calls per second over the busy period. */
  callsPerSecond: number;
  /** Accepted calls per second over the busy period (equal to callsPerSecond when none was refused). */
  acceptedPerSecond: number;
  /** Accepted calls per second in the second half of the busy period (after any start-up transient). */
  acceptedPerSecondLateHalf: number;
  /** Calls and throttled calls in the second half of the busy period. */
  callsLateHalf: number;
  throttledLateHalf: number;
  /** Most arrivals of our calls (throttled included) in any 1000 ms window. */
  maxArrivalsInWindow: number;
}

/** (n - 1) / span: the rate of n events spread from the first to the last. */
export function rate(timesMs: readonly number[]): number {
  if (timesMs.length < 2) return 0;
  const first = Math.min(...timesMs);
  const last = Math.max(...timesMs);
  return last > first ? ((timesMs.length - 1) * 1000) / (last - first) : 0;
}

/** Events per second of `timesMs` that fall in (fromMs, toMs]. */
function rateIn(timesMs: readonly number[], fromMs: number, toMs: number): number {
  return toMs > fromMs ? (timesMs.filter((t) => t > fromMs && t <= toMs).length * 1000) / (toMs - fromMs) : 0;
}

export function summariseCalls(calls: readonly SimulatorCall[], windowMs = 1000): CallSummary {
  const all = calls.map((c) => c.arrivalMs).sort((a, b) => a - b);
  const ok = calls
    .filter((c) => c.code === 'OK')
    .map((c) => c.arrivalMs)
    .sort((a, b) => a - b);
  const throttled = calls.filter((c) => c.code === THROTTLED).length;
  const first = all[0] ?? 0;
  const last = all[all.length - 1] ?? 0;
  const middle = first + (last - first) / 2;
  return {
    calls: calls.length,
    accepted: ok.length,
    throttled,
    otherErrors: calls.length - ok.length - throttled,
    busySeconds: (last - first) / 1000,
    callsPerSecond: rate(all),
    // Over the busy period of all calls, the first one not counted (as in `rate`).
    acceptedPerSecond: last > first ? (Math.max(0, ok.length - (ok[0] === first ? 1 : 0)) * 1000) / (last - first) : 0,
    acceptedPerSecondLateHalf: rateIn(ok, middle, last),
    callsLateHalf: calls.filter((c) => c.arrivalMs > middle).length,
    throttledLateHalf: calls.filter((c) => c.arrivalMs > middle && c.code === THROTTLED).length,
    maxArrivalsInWindow: maxInWindow(all, windowMs),
  };
}
