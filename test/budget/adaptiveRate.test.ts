/**
 * The budget's controller (src/budget/adaptiveRate.ts) against a real Redis. Its decisions are a Lua
 * script; their clock is injected (the script's `now`), so intervals, cooldowns and memories are stepped
 * exactly, to the millisecond on either side of each boundary, instead of slept through. One test checks
 * that without a clock (production) the script reads Redis's TIME.
 */
import type { Redis } from 'ioredis';
import { AdaptiveRate, type AdaptiveRateOptions } from '../../src/budget/adaptiveRate';
import { redisClient, uniqueName } from '../support/redis';

/** A clock the test moves by hand (ms, in the range of real epoch times). */
class FakeClock {
  t = 1_700_000_000_000;
  readonly now = () => this.t;
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}

describe('AdaptiveRate (the cluster-wide controller in Redis)', () => {
  let redis: Redis;
  let other: Redis;
  beforeAll(() => {
    redis = redisClient();
    other = redisClient();
  });
  afterAll(async () => {
    await redis.quit();
    await other.quit();
  });

  interface Made {
    ctl: AdaptiveRate;
    keys: { state: string; settings: string; sends: string };
  }

  const newKeys = () => ({ state: uniqueName('ctl'), settings: uniqueName('settings'), sends: uniqueName('sends') });

  function make(client: Redis, extra: Partial<AdaptiveRateOptions> = {}, clock?: FakeClock, keys = newKeys()): Made {
    const options: AdaptiveRateOptions = {
      maxRate: 20,
      guardMs: 25,
      decreaseFactor: 0.75,
      decreaseCooldownMs: 300,
      increaseIntervalMs: 300,
      guardIntervalMs: 300,
      increaseStep: 1,
      slowStep: 1,
      marginMs: 0.5,
      ...extra,
    };
    return {
      ctl: clock ? new AdaptiveRate(client, keys, options, clock.now) : new AdaptiveRate(client, keys, options),
      keys,
    };
  }

  /** `n` sends of ours in the log, evenly spread over the 900 ms before `at` (ms), plus seeded ones. */
  async function logSends(sends: string, n: number, at: number, assumed = 0): Promise<void> {
    for (let i = 0; i < n; i++)
      await redis.zadd(sends, at - 900 + Math.round((i * 900) / Math.max(1, n - 1)), `w:${i}:${at}`);
    for (let i = 0; i < assumed; i++) await redis.zadd(sends, at - 500 + i, `assumed:${i}:${at}`);
  }

  async function redisNow(): Promise<number> {
    const [s, us] = await redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  test('starts at the limit and the configured guard; one spacing formula: (1000 + guard) / rate + margin', async () => {
    const { ctl } = make(redis);
    expect(await ctl.report('get')).toEqual({
      rate: 20,
      guardMs: 25,
      spacingMs: 1025 / 20 + 0.5,
      changed: false,
      cause: 'none',
      sent: -1,
    });
  });

  test("without an injected clock, decisions are stamped with Redis's TIME", async () => {
    const { ctl, keys } = make(redis);
    const before = await redisNow();
    expect(await ctl.report('throttle')).toMatchObject({ cause: 'unknown', changed: true });
    const after = await redisNow();
    const stamped = Number(await redis.hget(keys.state, 'lastThrottle'));
    expect(stamped).toBeGreaterThanOrEqual(before);
    expect(stamped).toBeLessThanOrEqual(after);
    await redis.del(keys.state);
  });

  test('with an injected clock, decisions are stamped with it', async () => {
    const clock = new FakeClock();
    const { ctl, keys } = make(redis, {}, clock);
    await ctl.report('throttle');
    expect(Number(await redis.hget(keys.state, 'lastThrottle'))).toBe(clock.t);
    await redis.del(keys.state);
  });

  test('throttled after sending the limit in the last second: our own timing, the guard widens (doubles the first time) and the rate stays', async () => {
    const clock = new FakeClock();
    const { ctl, keys } = make(redis, { guardWidenMs: 10 }, clock);
    await logSends(keys.sends, 20, clock.t);
    const d = await ctl.report('throttle', clock.t);
    // Never refused before: 25 ms was too little by an unknown amount, so it doubles.
    expect(d).toMatchObject({ cause: 'own-timing', sent: 20, rate: 20, guardMs: 50, changed: true });
    expect(d.spacingMs).toBeCloseTo(1050 / 20 + 0.5);
    // Once a guard was refused: steps of guardWidenMs.
    const next = clock.advance(1);
    await logSends(keys.sends, 20, next);
    expect(await ctl.report('throttle', next)).toMatchObject({ cause: 'own-timing', guardMs: 60 });
    // A narrow fresh guard doubles by at least half a widening.
    const narrow = make(redis, { guardMs: 2, minGuardMs: 0, guardWidenMs: 10 }, clock);
    await logSends(narrow.keys.sends, 20, clock.t);
    expect((await narrow.ctl.report('throttle', clock.t)).guardMs).toBe(7);
  });

  test('throttled after sending fewer: another consumer; the rate is set from the count at once, seeded entries not counted', async () => {
    const clock = new FakeClock();
    const { ctl, keys } = make(redis, {}, clock);
    // 16 of ours (the refused one included) and 4 seeded after a log loss, which are not ours.
    await logSends(keys.sends, 16, clock.t, 4);
    const d = await ctl.report('throttle', clock.t);
    // The server counted more than 20 while 15 were ours: the others spent at least 5; 15 are left.
    expect(d).toMatchObject({ cause: 'other-consumer', sent: 16, rate: 15, guardMs: 25, changed: true });
    // Sending 16 per window was refused: that is the ceiling probed towards slowly.
    expect(Number(await redis.hget(keys.state, 'ceiling'))).toBe(16);
  });

  test('a refused call sent longer ago than the send log keeps is diagnosed as unknown', async () => {
    const clock = new FakeClock();
    const { ctl, keys } = make(redis, {}, clock);
    const sentAt = clock.t;
    await logSends(keys.sends, 20, sentAt);
    clock.advance(6000); // SEND_LOG_RETAIN_MS
    expect(await ctl.report('throttle', sentAt)).toMatchObject({ cause: 'unknown', sent: -1, rate: 15 });
  });

  test('a burst of throttles from many workers is one decision', async () => {
    const clock = new FakeClock();
    const made = make(redis, {}, clock);
    const b = make(other, {}, clock, made.keys);
    await logSends(made.keys.sends, 12, clock.t);
    const at = clock.t;
    const burst = await Promise.all([
      made.ctl.report('throttle', at),
      b.ctl.report('throttle', at),
      made.ctl.report('throttle', at),
      b.ctl.report('throttle', at),
    ]);
    expect(burst.filter((d) => d.changed)).toHaveLength(1);
    expect((await b.ctl.report('get')).rate).toBe(11);
  });

  test('a refused call sent before the last decision changes nothing, even reported later; one sent after it does', async () => {
    const clock = new FakeClock();
    const { ctl, keys } = make(redis, { guardWidenMs: 10 }, clock);
    const sentBefore = clock.t - 40;
    await logSends(keys.sends, 20, clock.t);
    expect((await ctl.report('throttle', clock.t)).guardMs).toBe(50);
    // Its answer comes 200 ms later: it left before the decision, under the old guard.
    clock.advance(200);
    expect(await ctl.report('throttle', sentBefore)).toMatchObject({ changed: false, guardMs: 50 });
    expect(await ctl.report('throttle', clock.t - 200)).toMatchObject({ changed: false, guardMs: 50 });
    // Sent 1 ms after the decision: paced and counted under the new guard, so its refusal is news.
    const after = clock.t - 199;
    await logSends(keys.sends, 20, after);
    expect(await ctl.report('throttle', after)).toMatchObject({ changed: true, guardMs: 60, cause: 'own-timing' });
  });

  test('a throttle whose send time is unknown cuts by the factor, once per cooldown', async () => {
    const clock = new FakeClock();
    const { ctl } = make(redis, {}, clock);
    expect(await ctl.report('throttle')).toMatchObject({ cause: 'unknown', rate: 15, changed: true });
    clock.advance(299);
    expect(await ctl.report('throttle')).toMatchObject({ rate: 15, changed: false });
    // The cooldown counts from the last throttle that decided.
    clock.advance(1);
    expect(await ctl.report('throttle')).toMatchObject({ cause: 'unknown', rate: 11.25, changed: true });
  });

  test('the rate probes back up one step per quiet interval, slowly near the rate that was refused', async () => {
    const clock = new FakeClock();
    const { ctl } = make(redis, { increaseStep: 2, slowStep: 0.25, nearCeiling: 0.9 }, clock);
    await ctl.report('throttle'); // ceiling 20, rate 15
    expect((await ctl.report('success')).changed).toBe(false); // too soon after the cut
    clock.advance(299);
    expect((await ctl.report('success')).changed).toBe(false); // the interval is 300 ms
    const steps: number[] = [];
    clock.advance(1);
    steps.push((await ctl.report('success')).rate);
    for (let i = 0; i < 2; i++) {
      clock.advance(300);
      steps.push((await ctl.report('success')).rate);
    }
    // 15 -> 17 -> 19 (fast, below 0.9 x 20 = 18) -> 19.25 (slow, near the ceiling)
    expect(steps).toEqual([17, 19, 19.25]);
    // Successes in between do not step: one step per interval, however many calls succeed.
    expect((await ctl.report('success')).rate).toBe(19.25);
  });

  test('a ceiling not confirmed for ceilingMemoryMs is forgotten: fast steps again', async () => {
    const clock = new FakeClock();
    // Near the ceiling from 0.7 x 20 = 14: the rate after the cut (15) steps slowly while it is remembered.
    const { ctl } = make(
      redis,
      { increaseStep: 2, slowStep: 0.25, nearCeiling: 0.7, ceilingMemoryMs: 1000, guardMs: 0 },
      clock,
    );
    await ctl.report('throttle'); // 15, ceiling 20
    clock.advance(999);
    expect((await ctl.report('success')).rate).toBe(15.25);
    clock.advance(300);
    expect((await ctl.report('success')).rate).toBe(17.25);
  });

  test('the guard narrows while no throttle comes: fast, then slowly within one widening of the guard that failed, never below the floor', async () => {
    const clock = new FakeClock();
    const { ctl, keys } = make(
      redis,
      { guardMs: 30, guardWidenMs: 10, guardNarrowMs: 8, guardSlowNarrowMs: 1, minGuardMs: 21 },
      clock,
    );
    await logSends(keys.sends, 20, clock.t);
    expect((await ctl.report('throttle', clock.t)).guardMs).toBe(60); // 30 failed (the first refusal doubles)
    clock.advance(299);
    expect((await ctl.report('success')).guardMs).toBe(60); // the interval is 300 ms
    const guards: number[] = [];
    clock.advance(1);
    for (let i = 0; i < 6; i++) {
      guards.push((await ctl.report('success')).guardMs);
      clock.advance(300);
    }
    // Fast (8 ms) while above 35 (half a widening above the 30 that failed), then slow (1 ms).
    expect(guards).toEqual([52, 44, 36, 28, 27, 26]);

    // A budget that was never refused narrows at its own (faster) step; after a refusal, the usual one.
    const fresh = make(redis, { guardMs: 30, guardFreshNarrowMs: 4, guardNarrowMs: 1, minGuardMs: 21 }, clock);
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      seen.push((await fresh.ctl.report('success')).guardMs);
      clock.advance(300);
    }
    expect(seen).toEqual([26, 22, 21, 21]);
    const refused = make(
      redis,
      { guardMs: 50, guardWidenMs: 10, guardFreshNarrowMs: 4, guardNarrowMs: 1, minGuardMs: 21 },
      clock,
    );
    await logSends(refused.keys.sends, 20, clock.t);
    expect((await refused.ctl.report('throttle', clock.t)).guardMs).toBe(100); // 50 failed
    const after: number[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(300);
      after.push((await refused.ctl.report('success')).guardMs);
    }
    expect(after).toEqual([99, 98, 97]);
  });

  test('a narrow guard (a lone late process, no network jitter) at most doubles, and narrows slowly only within half of that', async () => {
    const clock = new FakeClock();
    const { ctl, keys } = make(redis, { guardMs: 5, minGuardMs: 5, guardWidenMs: 10, guardSlowNarrowMs: 0.25 }, clock);
    await logSends(keys.sends, 20, clock.t);
    expect((await ctl.report('throttle', clock.t)).guardMs).toBe(10); // fresh: doubled
    const guards: number[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(300);
      guards.push((await ctl.report('success')).guardMs);
    }
    // Fast (1 ms) while above 7.5 (half of the 5 ms step above the 5 that failed), then slow.
    expect(guards).toEqual([9, 8, 7, 6.75, 6.5]);
    const at = clock.advance(1);
    await logSends(keys.sends, 20, at);
    // Refused at 6.5: widened by 6.5 (doubled), not by the 10 of a wide guard.
    expect((await ctl.report('throttle', at)).guardMs).toBe(13);
  });

  test('never cuts below the floor, never widens past the widest guard', async () => {
    const clock = new FakeClock();
    const { ctl, keys } = make(redis, { decreaseCooldownMs: 0, minRate: 2, maxGuardMs: 45, guardWidenMs: 10 }, clock);
    for (let i = 0; i < 30; i++) await ctl.report('throttle');
    expect((await ctl.report('get')).rate).toBe(2);
    const g = make(redis, { decreaseCooldownMs: 0, maxGuardMs: 45, guardWidenMs: 10 }, clock);
    for (let i = 0; i < 5; i++) {
      // Each refused call sent well after the decision before it.
      const at = clock.advance(2000);
      await logSends(g.keys.sends, 20, at);
      await g.ctl.report('throttle', at);
    }
    expect((await g.ctl.report('get')).guardMs).toBe(45);
    await redis.del(keys.state, g.keys.state, g.keys.sends);
  });

  test("writes the spacing into Bottleneck's settings with each decision and on sync, only when they exist; get writes nothing", async () => {
    const clock = new FakeClock();
    const { ctl, keys } = make(redis, {}, clock);
    await ctl.report('throttle'); // 15
    expect(await redis.exists(keys.settings)).toBe(0); // never creates a half-made settings hash
    await redis.hset(keys.settings, 'minTime', '1', 'nextRequest', '0');
    await ctl.report('get');
    expect(await redis.hget(keys.settings, 'minTime')).toBe('1');
    await ctl.report('sync');
    expect(Number(await redis.hget(keys.settings, 'minTime'))).toBeCloseTo(1025 / 15 + 0.5);
    clock.advance(300);
    await ctl.report('throttle'); // 15 -> 11.25
    expect(Number(await redis.hget(keys.settings, 'minTime'))).toBeCloseTo(1025 / 11.25 + 0.5);
    await redis.del(keys.settings, keys.state);
  });

  test('refuses options out of range, naming them', () => {
    expect(() => make(redis, { decreaseFactor: 1.5 })).toThrow('decreaseFactor');
    expect(() => make(redis, { minGuardMs: 300, maxGuardMs: 200 })).toThrow('minGuardMs');
  });
});
