/** Retry delays for transient errors: exponential, with "equal jitter" so retries do not march in step. */

/** The backoff type our producer puts on jobs (BullMQ custom backoff, computed by the worker). */
export const BACKOFF_TYPE = 'tcss-jitter';

/** No retry waits longer than this. */
export const MAX_BACKOFF_MS = 10 * 60_000;

/** Delay before retry number `attempt` (1-based): half of base*2^(attempt-1), plus up to as much again at random. */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const full = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + random() * (full / 2));
}
