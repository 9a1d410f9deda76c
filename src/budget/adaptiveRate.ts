/**
 * The budget's controller: the cluster-wide rate and send-time guard, changed only inside one Lua
 * script, so every worker sees the same values and a burst of throttles from many workers is one event.
 *
 * When the API says RequestLimitExceeded, our own send log (sendWindow.ts) says how many calls we sent
 * in the window (1000 + guard ms, as the ceiling counts) before the refused one left, itself included
 * (`sent`, by Redis's clock). That tells two causes apart:
 *
 * - `sent` ≥ the limit: we spent the whole budget ourselves, so the refusal is our own timing (calls
 *   that left on time arrived closer together than they left: network jitter, a late process). The
 *   rate stays; the guard (the send log counts `limit` sends per 1000 + guard ms, and calls are spaced
 *   by the same window) widens: it doubles while no guard was ever refused (a refusal at guard g shows
 *   that arrivals jitter by more than g, not by how much; doubling finds any jitter in a few steps, as a
 *   retransmission timer backs off), then by `guardWidenMs` (at most doubling a narrow guard). While no
 *   throttle comes it narrows again (faster while no guard was ever refused: `guardFreshNarrowMs`), fast
 *   down to half a widening above the guard that last failed, slowly below it (that guard is forgotten
 *   after `ceilingMemoryMs`), down to `minGuardMs`.
 * - `sent` < the limit: someone else spends the key (console, tccli, another service). The server
 *   counted more than `limit` arrivals while `sent - 1` of them were ours besides the refused one, so the
 *   others spent at least `limit - (sent - 1)`, and what is left for us is at most `sent - 1`: the rate
 *   is set to that at once (not cut by a fixed factor and probed back for a minute). Then it probes
 *   up, fast far below the rate that was refused (the "ceiling", `sent`), slowly near it, as TCP CUBIC's
 *   plateau; a ceiling not confirmed for `ceilingMemoryMs` is forgotten (the other user may be gone).
 * - The send time unknown (a process of an older version): cut by `decreaseFactor`.
 *
 * The spacing between call starts is ONE formula, `spacing` in the script below:
 *     spacing = (1000 + guard) / rate + margin
 * so the pacing (Bottleneck's minTime, written here atomically with each decision) and the send-time
 * ceiling (`floor(rate × (1000 + guard) / 1000)` sends per 1000 + guard ms) always agree. docs/budget.md
 * explains the numbers.
 */
import type { Redis } from 'ioredis';
import { defineScript, replyNumber } from './script';

/** Tuning of the controller. Times are in Redis's clock (TIME), so machines' clocks do not matter. */
export interface AdaptiveRateOptions {
  /** Highest rate (req/s), the configured limit. */
  maxRate: number;
  /** Lowest rate it will cut to. Default maxRate / 20. */
  minRate?: number;
  /** Multiplier applied on a throttle whose send time is unknown. Default 0.85. */
  decreaseFactor?: number;
  /**
   * A throttle of a call sent before the last decision is part of the same burst and changes nothing
   * (calls sent after it are paced and counted under the new values, also against older sends). When
   * the send time is unknown: a throttle reported within this many ms of the last one. Default 500.
   */
  decreaseCooldownMs?: number;
  /** Step added after each quiet interval far below the ceiling, in req/s; also the least cut when
   * another consumer is diagnosed. Default maxRate / 40. */
  increaseStep?: number;
  /** Step near the ceiling (above `nearCeiling` × ceiling), in req/s. Default maxRate / 400. */
  slowStep?: number;
  /** Where "near the ceiling" begins, as a fraction of it. Default 0.9. */
  nearCeiling?: number;
  /** A ceiling (rate or guard) not confirmed by a throttle for this long is forgotten, ms. Default 60000. */
  ceilingMemoryMs?: number;
  /** Quiet time before each step up of the rate, in ms. Default 1000. */
  increaseIntervalMs?: number;
  /** Extra ms added to every spacing. Default 0. */
  marginMs?: number;
  /** The guard a new budget starts with, ms (TCSS_WINDOW_GUARD_MS). */
  guardMs: number;
  /** Narrowest guard, ms. Default 5 (19.9 calls/s at a limit of 20: 99.5%). */
  minGuardMs?: number;
  /** Widest guard, ms. Default 200 (the rate's ceiling then is limit × 1000 / 1200). */
  maxGuardMs?: number;
  /** Widening on a throttle of our own timing once a guard was refused, ms, at most doubling the guard
   * (before any refusal the guard doubles, by at least half of this). Default 10. */
  guardWidenMs?: number;
  /** Narrowing per quiet interval while no guard was refused (or the refusal is forgotten), ms. Default GUARD_FRESH_NARROW_MS. */
  guardFreshNarrowMs?: number;
  /** Narrowing per quiet interval far from the last failed guard, ms. Default GUARD_NARROW_MS. */
  guardNarrowMs?: number;
  /** Narrowing per quiet interval within half a widening of the last failed guard, ms. Default GUARD_SLOW_NARROW_MS. */
  guardSlowNarrowMs?: number;
  /** Quiet time before each narrowing, ms. Default 1000. */
  guardIntervalMs?: number;
}

/**
 * get: read (no write). sync: also write the spacing into Bottleneck's settings. throttle: the API
 * refused a call that left at `sentAtMs` (Redis ms; 0 if unknown). success: a quiet interval may have passed.
 */
export type RateEvent = 'get' | 'sync' | 'throttle' | 'success';

/** Why the last throttle changed what it changed. */
export type ThrottleCause = 'none' | 'own-timing' | 'other-consumer' | 'unknown';

export interface RateDecision {
  /** The cluster's rate, req/s. */
  rate: number;
  /** The send-time guard, ms. */
  guardMs: number;
  /** Ms between call starts, cluster-wide (Bottleneck's minTime). */
  spacingMs: number;
  /** Rate or guard changed by this event. */
  changed: boolean;
  cause: ThrottleCause;
  /** Our sends in the second before the refused call left (itself included); -1 when not counted. */
  sent: number;
}

const CAUSES: readonly ThrottleCause[] = ['none', 'own-timing', 'other-consumer', 'unknown'];

/**
 * The guard's narrowing per quiet second while no guard has been refused (a fresh budget, or the last
 * refusal forgotten after `ceilingMemoryMs`), ms: from the default 25 ms to the narrowest (5 ms, 99.5 %
 * of the limit) in 10 s. At 1 ms a 10-second run without jitter stayed at 97.45 % of the limit (the
 * bench, 2026-12-02). Once a guard was refused, narrowing goes back to GUARD_NARROW_MS (at 2 ms there
 * too, the 60-second runs were refused twice as often and the jitter runs settled lower, refused more).
 */
export const GUARD_FRESH_NARROW_MS = 2;

/** The guard's narrowing per quiet second far (over half a widening) from the last refused guard, ms. */
export const GUARD_NARROW_MS = 1;

/**
 * The guard's narrowing per quiet second within half a widening of the last refused guard, ms. At 0.1
 * the jitter runs were refused less (0.26 % instead of about 0.35 %), but a lone refusal without jitter
 * (a descheduled process) then held the guard near 10 ms for the rest of a minute: 98.8 % of the limit
 * over the last 40 s of a 60-second run (the bench, 2026-12-02).
 */
export const GUARD_SLOW_NARROW_MS = 0.2;

/** Sends older than this are dropped from the log; a throttle reported later than this is 'unknown'. */
export const SEND_LOG_RETAIN_MS = 6000;

/**
 * The controller's state expires an hour after the last throttle or success wrote it: an idle budget
 * then starts again from the limit and the default guard, rather than from a cut made long ago for a
 * consumer that may be gone. A working queue rewrites it every second; an hour is far beyond the
 * controller's own memory (`ceilingMemoryMs`, a minute), so nothing it still uses expires.
 */
export const RATE_STATE_TTL_MS = 3_600_000;

const script = defineScript({
  name: 'adaptRate',
  keys: ['state', 'settings', 'sends'] as const,
  args: [
    'event',
    'sentAt',
    'maxRate',
    'minRate',
    'factor',
    'cooldown',
    'step',
    'interval',
    'margin',
    'slowStep',
    'near',
    'memory',
    'guard0',
    'minGuard',
    'maxGuard',
    'widen',
    'freshNarrow',
    'narrow',
    'slowNarrow',
    'guardInterval',
    'retain',
    'now',
  ] as const,
  lua: `
-- Redis's clock, unless the caller passed one (A.now > 0: tests step time instead of sleeping).
local now = tonumber(A.now)
if now <= 0 then
  local t = redis.call('time')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local maxRate = tonumber(A.maxRate)
local minRate = tonumber(A.minRate)
local margin = tonumber(A.margin)
local memory = tonumber(A.memory)
local minGuard = tonumber(A.minGuard)
local maxGuard = tonumber(A.maxGuard)
local widen = tonumber(A.widen)

-- THE spacing formula (see the file comment).
local function spacing(rate, guard)
  return (1000 + guard) / rate + margin
end

-- The widening of guard g. Never refused before (fresh): the jitter is more than g, by an unknown
-- amount, so g doubles (by at least widen / 2). Once a guard was refused: 'widen', but never more than
-- doubling a narrow guard (a lone late process at 5 ms needs 5 more, not 10). The guard narrows
-- slowly within half of it above the refused guard.
local function widenStep(g, fresh)
  local step = math.max(g, widen / 2)
  if fresh then return step end
  return math.min(widen, step)
end

local s = redis.call('hmget', K.state, 'rate', 'guard', 'lastDecrease', 'lastChange', 'ceiling', 'lastGuardChange', 'guardFloor', 'lastThrottle', 'lastDecision')
local rate = tonumber(s[1]) or maxRate
local guard = tonumber(s[2]) or tonumber(A.guard0)
local lastDecrease = tonumber(s[3]) or 0
local lastChange = tonumber(s[4]) or now
local ceiling = tonumber(s[5]) or 0
local lastGuardChange = tonumber(s[6]) or 0
local guardFloor = tonumber(s[7]) or -1
local lastThrottle = tonumber(s[8]) or 0
local lastDecision = tonumber(s[9]) or 0
if rate > maxRate then rate = maxRate end
if guard > maxGuard then guard = maxGuard end
if guard < minGuard then guard = minGuard end
if now - lastDecrease >= memory then ceiling = 0 end
if now - lastThrottle >= memory then guardFloor = -1 end
local oldRate = rate
local oldGuard = guard
local cause = 'none'
local sent = -1
local event = A.event

local sentAt = tonumber(A.sentAt)
local known = sentAt > 0 and now - sentAt < tonumber(A.retain)
-- The same burst: a call that left before the last decision (those after it were paced and counted
-- by the ceiling under the new values, against the older sends too, so their refusal is news), or,
-- when its send time is unknown, a throttle reported within the cooldown of the last one.
local sameBurst
if known then
  sameBurst = sentAt <= lastDecision
else
  sameBurst = now - lastThrottle < tonumber(A.cooldown)
end
if event == 'throttle' then
  if not sameBurst then
    lastThrottle = now
    lastDecision = now
    if known then
      sent = 0
      -- Over the guard's window, as the ceiling counts: with arrival jitter up to the guard, the
      -- server's second may hold a send from slightly more than 1000 ms before this one.
      for _, m in ipairs(redis.call('zrangebyscore', K.sends, '(' .. (sentAt - 1000 - guard), sentAt)) do
        if string.sub(m, 1, 8) ~= 'assumed:' then sent = sent + 1 end
      end
    end
    if sent >= math.floor(maxRate + 1e-9) then
      cause = 'own-timing'
      local step = widenStep(guard, guardFloor < 0)
      guardFloor = guard
      guard = math.min(maxGuard, guard + step)
      lastGuardChange = now
    else
      ceiling = rate
      if sent > 0 then
        cause = 'other-consumer'
        -- Sending at "sent" per window was refused: that is the ceiling to probe towards slowly.
        ceiling = math.min(rate, sent)
        rate = math.min(sent - 1, rate - tonumber(A.step))
      else
        cause = 'unknown'
        rate = rate * tonumber(A.factor)
      end
      if rate < minRate then rate = minRate end
      lastDecrease = now
      lastChange = now
    end
  end
elseif event == 'success' then
  local interval = tonumber(A.interval)
  if rate < maxRate and now - lastChange >= interval and now - lastThrottle >= interval then
    local inc = tonumber(A.step)
    if ceiling > 0 and rate >= ceiling * tonumber(A.near) then inc = tonumber(A.slowStep) end
    rate = math.min(maxRate, rate + inc)
    lastChange = now
  end
  local gi = tonumber(A.guardInterval)
  if guard > minGuard and now - lastGuardChange >= gi and now - lastThrottle >= gi then
    local dec = tonumber(A.narrow)
    if guardFloor < 0 then dec = tonumber(A.freshNarrow) end
    if guardFloor >= 0 and guard <= guardFloor + widenStep(guardFloor, false) / 2 then dec = tonumber(A.slowNarrow) end
    guard = math.max(minGuard, guard - dec)
    lastGuardChange = now
  end
end

local changed = 0
if rate ~= oldRate or guard ~= oldGuard then changed = 1 end
if event == 'throttle' or event == 'success' then
  redis.call('hset', K.state, 'rate', tostring(rate), 'guard', tostring(guard), 'lastDecrease', lastDecrease, 'lastChange', lastChange,
    'ceiling', tostring(ceiling), 'lastGuardChange', lastGuardChange, 'guardFloor', tostring(guardFloor), 'lastThrottle', lastThrottle, 'lastDecision', lastDecision)
  redis.call('pexpire', K.state, ${RATE_STATE_TTL_MS})
end
local sp = spacing(rate, guard)
if (changed == 1 or event == 'sync') and redis.call('exists', K.settings) == 1 then
  redis.call('hset', K.settings, 'minTime', tostring(sp))
end
return {tostring(rate), tostring(guard), tostring(sp), changed, cause, sent}
`,
  parse: (reply): RateDecision => {
    if (!Array.isArray(reply) || reply.length !== 6) throw new Error('expected 6 items');
    const cause = CAUSES.find((c) => c === reply[4]);
    if (!cause) throw new Error('unknown cause');
    return {
      rate: replyNumber(reply[0]),
      guardMs: replyNumber(reply[1]),
      spacingMs: replyNumber(reply[2]),
      changed: replyNumber(reply[3]) === 1,
      cause,
      sent: replyNumber(reply[5]),
    };
  },
});

export interface AdaptiveRateKeys {
  /** The controller's state hash (keys.budgetRate). */
  state: string;
  /** Bottleneck's settings hash (keys.bottleneckSettings): minTime is written there. */
  settings: string;
  /** The send log (keys.budgetSends), counted on a throttle. */
  sends: string;
}

export class AdaptiveRate {
  private readonly o: Required<AdaptiveRateOptions>;

  constructor(
    private readonly redis: Redis,
    private readonly keys: AdaptiveRateKeys,
    options: AdaptiveRateOptions,
    /** The controller's clock, ms, for tests; by default (always in production) Redis's TIME. */
    private readonly clock?: () => number,
  ) {
    this.o = {
      minRate: options.maxRate / 20,
      decreaseFactor: 0.85,
      decreaseCooldownMs: 500,
      increaseStep: options.maxRate / 40,
      slowStep: options.maxRate / 400,
      nearCeiling: 0.9,
      ceilingMemoryMs: 60_000,
      increaseIntervalMs: 1000,
      marginMs: 0,
      minGuardMs: 5,
      maxGuardMs: 200,
      guardWidenMs: 10,
      guardFreshNarrowMs: GUARD_FRESH_NARROW_MS,
      guardNarrowMs: GUARD_NARROW_MS,
      guardSlowNarrowMs: GUARD_SLOW_NARROW_MS,
      guardIntervalMs: 1000,
      ...options,
    };
    const o = this.o;
    if (!(o.decreaseFactor > 0 && o.decreaseFactor < 1))
      throw new Error(`Expected decreaseFactor to be between 0 and 1, got ${o.decreaseFactor}`);
    if (!(o.minGuardMs >= 0 && o.minGuardMs <= o.maxGuardMs))
      throw new Error(`Expected 0 ≤ minGuardMs ≤ maxGuardMs, got ${o.minGuardMs} and ${o.maxGuardMs}`);
    if (!(o.minRate > 0 && o.minRate <= o.maxRate)) throw new Error(`Expected 0 < minRate ≤ maxRate, got ${o.minRate}`);
  }

  /** Reports an event and returns the cluster's rate, guard and spacing after it. */
  report(event: RateEvent, sentAtMs = 0): Promise<RateDecision> {
    const o = this.o;
    return script.run(this.redis, this.keys, {
      event,
      sentAt: sentAtMs,
      maxRate: o.maxRate,
      minRate: o.minRate,
      factor: o.decreaseFactor,
      cooldown: o.decreaseCooldownMs,
      step: o.increaseStep,
      interval: o.increaseIntervalMs,
      margin: o.marginMs,
      slowStep: o.slowStep,
      near: o.nearCeiling,
      memory: o.ceilingMemoryMs,
      guard0: o.guardMs,
      minGuard: o.minGuardMs,
      maxGuard: o.maxGuardMs,
      widen: o.guardWidenMs,
      freshNarrow: o.guardFreshNarrowMs,
      narrow: o.guardNarrowMs,
      slowNarrow: o.guardSlowNarrowMs,
      guardInterval: o.guardIntervalMs,
      retain: SEND_LOG_RETAIN_MS,
      now: this.clock?.() ?? 0,
    });
  }
}
