/**
 * The shared budget, the one entry point for the rest of the service:
 *
 *   budgetId.ts            which budget a call spends (one per principal, endpoint host, action)
 *   limiter.ts             SharedBudget: schedule a call, report throttles and successes
 *   adaptiveRate.ts        the controller: rate, send-time guard, THE spacing formula (Lua)
 *   sendWindow.ts          the send-time ceiling and the log the controller reads
 *   bottleneckConnection.ts  Bottleneck on Redis 7 with Redis's clock
 *   script.ts              Lua scripts with named, typed keys and arguments
 *   backoff.ts             retry delays for transient errors
 *
 * docs/budget.md describes the design.
 */
export { budgetId } from './budgetId';
export { SharedBudget, readBudgetGuard, readBudgetRate, type SharedBudgetOptions } from './limiter';
export {
  GUARD_FRESH_NARROW_MS,
  GUARD_NARROW_MS,
  GUARD_SLOW_NARROW_MS,
  type AdaptiveRateOptions,
  type RateDecision,
  type ThrottleCause,
} from './adaptiveRate';
export { BACKOFF_TYPE, MAX_BACKOFF_MS, backoffDelay } from './backoff';
