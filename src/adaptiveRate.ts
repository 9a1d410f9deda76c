/**
 * Cluster-wide adaptive rate (additive increase, multiplicative decrease) for the shared budget.
 *
 * The API's limit is shared with everyone using the same key (console, tccli, other services), so the
 * rate we can use is the limit minus what they spend, which we cannot see. When the API says
 * RequestLimitExceeded we cut our rate; while it stays quiet we probe back up towards the limit.
 *
 * Probing is fast far below the rate at which we were last throttled (the "ceiling") and slow near it,
 * so that we spend long stretches just under what the other users leave us and are throttled rarely
 * (like TCP CUBIC's plateau). A ceiling not confirmed by a throttle for `ceilingMemoryMs` is
 * forgotten: the other user may have gone, and we climb back to the limit at the fast pace.
 *
 * State lives in one Redis hash per budget and changes only inside a Lua script, so every worker sees
 * the same rate and concurrent throttles from many workers count as one cut. The script also writes
 * the new spacing straight into the Bottleneck limiter's settings, atomically with the decision.
 */
import type { Redis } from 'ioredis';

/** Tuning of the controller. Times are in Redis's clock (TIME), so machines' clocks do not matter. */
export interface AdaptiveRateOptions {
  /** Highest rate (req/s), the configured limit. */
  maxRate: number;
  /** Lowest rate it will cut to. Default maxRate / 20. */
  minRate?: number;
  /** Multiplier applied on a throttle. Default 0.85. */
  decreaseFactor?: number;
  /** A throttle within this many ms of the last cut is part of the same burst. Default 500 (cuts
   * take effect on the next send, so a burst of refusals is only the calls already on their way). */
  decreaseCooldownMs?: number;
  /** Step added after each quiet interval far below the ceiling, in req/s. Default maxRate / 40. */
  increaseStep?: number;
  /** Step near the ceiling (above `nearCeiling` × ceiling), in req/s. Default maxRate / 400. */
  slowStep?: number;
  /** Where "near the ceiling" begins, as a fraction of it. Default 0.9. */
  nearCeiling?: number;
  /** A ceiling not confirmed by a throttle for this long is forgotten, ms. Default 60000. */
  ceilingMemoryMs?: number;
  /** Quiet time before each step up, in ms. Default 1000. */
  increaseIntervalMs?: number;
  /** Extra spacing added to 1000 / rate when writing minTime. Default 0. */
  marginMs?: number;
}

export type RateEvent = 'throttle' | 'success' | 'get';

export interface RateDecision {
  rate: number;
  changed: boolean;
}

// KEYS: [state hash, Bottleneck settings hash]
// ARGV: event, maxRate, minRate, decreaseFactor, decreaseCooldownMs, increaseStep, increaseIntervalMs,
//       marginMs, slowStep, nearCeiling, ceilingMemoryMs
const SCRIPT = `
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local event = ARGV[1]
local maxRate = tonumber(ARGV[2])
local minRate = tonumber(ARGV[3])
local factor = tonumber(ARGV[4])
local cooldown = tonumber(ARGV[5])
local step = tonumber(ARGV[6])
local interval = tonumber(ARGV[7])
local margin = tonumber(ARGV[8])
local slowStep = tonumber(ARGV[9])
local near = tonumber(ARGV[10])
local memory = tonumber(ARGV[11])

local s = redis.call('hmget', KEYS[1], 'rate', 'lastDecrease', 'lastChange', 'ceiling')
local rate = tonumber(s[1]) or maxRate
local lastDecrease = tonumber(s[2]) or 0
local lastChange = tonumber(s[3]) or now
local ceiling = tonumber(s[4]) or 0
if rate > maxRate then rate = maxRate end
if now - lastDecrease >= memory then ceiling = 0 end
local old = rate

if event == 'throttle' then
  if now - lastDecrease >= cooldown then
    ceiling = rate
    rate = math.max(minRate, rate * factor)
    lastDecrease = now
    lastChange = now
  end
elseif event == 'success' then
  if rate < maxRate and now - lastChange >= interval and now - lastDecrease >= interval then
    local inc = step
    if ceiling > 0 and rate >= ceiling * near then inc = slowStep end
    rate = math.min(maxRate, rate + inc)
    lastChange = now
  end
end

redis.call('hset', KEYS[1], 'rate', tostring(rate), 'lastDecrease', lastDecrease, 'lastChange', lastChange, 'ceiling', tostring(ceiling))
redis.call('pexpire', KEYS[1], 3600000)
local changed = 0
if rate ~= old then
  changed = 1
  if redis.call('exists', KEYS[2]) == 1 then
    redis.call('hset', KEYS[2], 'minTime', tostring(1000 / rate + margin))
  end
end
return {tostring(rate), changed}
`;

type AdaptCommand = (stateKey: string, settingsKey: string, ...argv: (string | number)[]) => Promise<[string, number]>;

export class AdaptiveRate {
  private readonly o: Required<AdaptiveRateOptions>;

  constructor(
    private readonly redis: Redis,
    private readonly stateKey: string,
    private readonly bottleneckSettingsKey: string,
    options: AdaptiveRateOptions,
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
      ...options,
    };
    if (!(this.o.decreaseFactor > 0 && this.o.decreaseFactor < 1)) {
      throw new Error(`Expected decreaseFactor to be between 0 and 1, got ${this.o.decreaseFactor}`);
    }
    if (!(redis as unknown as Record<string, unknown>).tcssAdaptRate) {
      redis.defineCommand('tcssAdaptRate', { numberOfKeys: 2, lua: SCRIPT });
    }
  }

  /** Reports an event and returns the cluster's rate after it. */
  async report(event: RateEvent): Promise<RateDecision> {
    const o = this.o;
    const cmd = (this.redis as unknown as { tcssAdaptRate: AdaptCommand }).tcssAdaptRate.bind(this.redis);
    const [rate, changed] = await cmd(
      this.stateKey,
      this.bottleneckSettingsKey,
      event,
      o.maxRate,
      o.minRate,
      o.decreaseFactor,
      o.decreaseCooldownMs,
      o.increaseStep,
      o.increaseIntervalMs,
      o.marginMs,
      o.slowStep,
      o.nearCeiling,
      o.ceilingMemoryMs,
    );
    return { rate: Number(rate), changed: changed === 1 };
  }

  /** minTime (ms between call starts) for a rate. */
  minTimeFor(rate: number): number {
    return 1000 / rate + this.o.marginMs;
  }
}
