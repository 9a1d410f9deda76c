/** The simulator's counts and peaks over its call log and background arrivals (`stats()`, `GET /_sim/stats`). */
import type { BackgroundCounts } from './backgroundLoad';
import type { SimulatorCall } from './callLog';
import { maxInWindow } from './slidingWindow';

export interface WindowPeaks {
  /** Calls admitted by the rate limit. */
  admitted: number;
  /** Most admitted calls from clients in any window of `windowMs` by arrival. */
  maxInAnyWindow: number;
  /** The same, counting admitted background arrivals too. */
  maxInAnyWindowWithBackground: number;
}

export interface SimulatorStats extends WindowPeaks {
  /** API calls received (the length of `calls()`). */
  total: number;
  /** Calls answered with TaskIds. */
  accepted: number;
  /** Calls refused with RequestLimitExceeded. */
  throttled: number;
  hung: number;
  /** Requests whose socket was destroyed because `unreachable` was on (not in `calls()`). */
  dropped: number;
  byCode: Record<string, number>;
  /** Background arrivals, one per sub-account per tick. */
  background: { arrivals: number; admitted: number; throttled: number };
  windowMs: number;
  bySecretId: Record<string, WindowPeaks>;
}

/** What `computeStats` reads of the background consumer. */
export interface BackgroundTally {
  counts: BackgroundCounts;
  admittedTimes: ReadonlyMap<string, number[]>;
}

export function computeStats(
  log: readonly SimulatorCall[],
  background: BackgroundTally,
  dropped: number,
  windowMs: number,
): SimulatorStats {
  const byCode: Record<string, number> = {};
  const admittedBySecretId = new Map<string, number[]>();
  let hung = 0;
  for (const call of log) {
    byCode[call.code] = (byCode[call.code] ?? 0) + 1;
    if (call.hung) hung++;
    if (call.admitted) {
      const times = admittedBySecretId.get(call.secretId) ?? [];
      times.push(call.arrivalMs);
      admittedBySecretId.set(call.secretId, times);
    }
  }
  const peaks = (clientTimes: number[], backgroundTimes: number[]): WindowPeaks => ({
    admitted: clientTimes.length,
    maxInAnyWindow: maxInWindow(clientTimes, windowMs),
    maxInAnyWindowWithBackground: maxInWindow([...clientTimes, ...backgroundTimes], windowMs),
  });
  const bySecretId: Record<string, WindowPeaks> = {};
  for (const secretId of new Set([...admittedBySecretId.keys(), ...background.admittedTimes.keys()])) {
    bySecretId[secretId] = peaks(admittedBySecretId.get(secretId) ?? [], background.admittedTimes.get(secretId) ?? []);
  }
  const all = peaks([...admittedBySecretId.values()].flat(), [...background.admittedTimes.values()].flat());
  const { arrivals, admitted, throttled } = background.counts;
  return {
    total: log.length,
    accepted: byCode.OK ?? 0,
    throttled: byCode.RequestLimitExceeded ?? 0,
    ...all,
    hung,
    dropped,
    byCode,
    background: { arrivals, admitted, throttled },
    windowMs,
    bySecretId,
  };
}
