/**
 * The rate limit as Tencent counts it: per sub-account and action, not per key (docs/tcss-api.md, "How
 * Tencent counts"), in a sliding window by arrival. Temporary keys count against their role. Real
 * calls and background arrivals go through the same windows.
 */
import { SlidingWindow, type Admission, type Clock } from './slidingWindow';

function windowKey(principal: string, action: string): string {
  return `${principal}\u0000${action}`;
}

export class RateCounter {
  private readonly window: SlidingWindow;

  constructor(limit: number, countThrottled: boolean, clock: Clock) {
    this.window = new SlidingWindow({ limit, countThrottled, clock });
  }

  /** Counts an arrival of `principal` calling `action` at `arrivalMs`; admitted unless its window is full. */
  admit(principal: string, action: string, arrivalMs: number): Admission {
    return this.window.tryAcquire(windowKey(principal, action), arrivalMs);
  }

  configure(limit: number, countThrottled: boolean): void {
    this.window.setLimit(limit);
    this.window.setCountThrottled(countThrottled);
  }

  reset(): void {
    this.window.reset();
  }
}

/** The real API's RequestLimitExceeded message, with the count it reports. */
export function rateLimitMessage(count: number, limit: number): string {
  return (
    `Your current request times equals to \`${count}\` in a second, which exceeds the frequency limit \`${limit}\` ` +
    'for a second. Please reduce the frequency of calls.'
  );
}
