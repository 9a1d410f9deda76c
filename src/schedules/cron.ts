/** Cron patterns and time zones, checked the way BullMQ will read them. */
import { getNextMillis } from 'bullmq';
import { errorMessage } from '../redact';
import { quoteValue } from '../problems';

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a cron pattern the way BullMQ will read it (`getNextMillis`, BullMQ's own cron-parser call);
 * undefined when it is fine. cron-parser quietly fills in missing fields ("* * *", even "") and
 * accepts aliases such as "@daily", so the field count is checked first.
 */
export function cronProblem(cron: string, timezone: string): string | undefined {
  const fields = cron
    .trim()
    .split(/\s+/)
    .filter((f) => f !== '').length;
  if (fields !== 5 && fields !== 6) {
    return `cron must be a cron pattern of 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got ${quoteValue(cron)}`;
  }
  let next: number | undefined;
  try {
    next = getNextMillis(Date.now(), { pattern: cron, tz: timezone });
  } catch (err) {
    return `cron ${quoteValue(cron)} is not a valid cron pattern: ${errorMessage(err)}`;
  }
  if (next === undefined || !Number.isFinite(next)) return `cron ${quoteValue(cron)} never fires`;
  return undefined;
}

/**
 * Whether a (valid) pattern can fire twice within one minute. Exact: minute-level fields fire at most
 * once a minute, so it can only happen within a matching minute, where every value of the seconds
 * field fires; so look at the first two firings from the start of the first matching minute.
 */
export function firesMoreThanOncePerMinute(cron: string, timezone: string): boolean {
  const first = getNextMillis(Date.now(), { pattern: cron, tz: timezone });
  if (first === undefined) return false;
  const a = getNextMillis(first - (first % 60_000) - 1, { pattern: cron, tz: timezone });
  const b = a === undefined ? undefined : getNextMillis(a, { pattern: cron, tz: timezone });
  return a !== undefined && b !== undefined && b - a < 60_000;
}
