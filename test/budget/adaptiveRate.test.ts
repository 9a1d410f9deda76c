/**
 * The budget's controller (src/budget/adaptiveRate.ts) against a real Redis: its clock is Redis's TIME,
 * so intervals are real (kept to a few hundred ms) and every check allows for a loaded machine by
 * asserting what changed, never how long it took.
 */
import type { Redis } from 'ioredis';
import { AdaptiveRate, type AdaptiveRateOptions } from '../../src/budget/adaptiveRate';
import { redisClient, sleep, uniqueName } from '../support/redis';

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

  function make(client: Redis, extra: Partial<AdaptiveRateOptions> = {}, keys = { state: uniqueName('ctl'), settings: uniqueName('settings'), sends: uniqueName('sends') }): Made {
    const ctl = new AdaptiveRate(client, keys, {
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
    });
    return { ctl, keys };
  }

  /** `n` sends of ours in the log, evenly spread over the 900 ms before `at` (Redis ms), plus seeded ones. */
  async function logSends(sends: string, n: number, at: number, assumed = 0): Promise<void> {
    for (let i = 0; i < n; i++) await redis.zadd(sends, at - 900 + Math.round((i * 900) / Math.max(1, n - 1)), `w:${i}:${at}`);
    for (let i = 0; i < assumed; i++) await redis.zadd(sends, at - 500 + i, `assumed:${i}:${at}`);
  }

  async function redisNow(): Promise<number> {
    const [s, us] = await redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  }

  test('starts at the limit and the configured guard; one spacing formula: (1000 + guard) / rate + margin', async () => {
    const { ctl } = make(redis);
    expect(await ctl.report('get')).toEqual({ rate: 20, guardMs: 25, spacingMs: 1025 / 20 + 0.5, changed: false, cause: 'none', sent: -1 });
  });

  test('throttled after sending the limit in the last second: our own timing, the guard widens and the rate stays', async () => {
    const { ctl, keys } = make(redis, { guardWidenMs: 10 });
    const at = await redisNow();
    await logSends(keys.sends, 20, at);
    const d = await ctl.report('throttle', at);
    expect(d).toMatchObject({ cause: 'own-timing', sent: 20, rate: 20, guardMs: 35, changed: true });
    expect(d.spacingMs).toBeCloseTo(1035 / 20 + 0.5);
  });

  test('throttled after sending fewer: another consumer; the rate is set from the count at once, seeded entries not counted', async () => {
    const { ctl, keys } = make(redis);
    const at = await redisNow();
    // 16 of ours (the refused one included) and 4 seeded after a log loss, which are not ours.
    await logSends(keys.sends, 16, at, 4);
    const d = await ctl.report('throttle', at);
    // The server counted more than 20 while 15 were ours: the others spent at least 5; 15 are left.
    expect(d).toMatchObject({ cause: 'other-consumer', sent: 16, rate: 15, guardMs: 25, changed: true });
    // Sending 16 per window was refused: that is the ceiling probed towards slowly.
    expect(Number(await redis.hget(keys.state, 'ceiling'))).toBe(16);
  });

  test('a burst of throttles from many workers is one decision', async () => {
    const made = make(redis);
    const b = make(other, {}, made.keys);
    const at = await redisNow();
    await logSends(made.keys.sends, 12, at);
    const burst = await Promise.all([made.ctl.report('throttle', at), b.ctl.report('throttle', at), made.ctl.report('throttle', at), b.ctl.report('throttle', at)]);
    expect(burst.filter((d) => d.changed)).toHaveLength(1);
    expect((await b.ctl.report('get')).rate).toBe(11);
  });

  test('a refused call sent before the last decision could act changes nothing; one sent after it does', async () => {
    const { ctl, keys } = make(redis, { guardWidenMs: 10 });
    const at = await redisNow();
    await logSends(keys.sends, 20, at);
    expect((await ctl.report('throttle', at)).guardMs).toBe(35);
    // Sent within 1000 + guard ms of the decision: the server's second still held sends at the old spacing.
    await logSends(keys.sends, 20, at + 900);
    expect(await ctl.report('throttle', at + 900)).toMatchObject({ changed: false, guardMs: 35 });
    const later = at + 2000;
    await logSends(keys.sends, 20, later);
    expect(await ctl.report('throttle', later)).toMatchObject({ changed: true, guardMs: 45, cause: 'own-timing' });
  });

  test('a throttle whose send time is unknown cuts by the factor', async () => {
    const { ctl } = make(redis);
    expect(await ctl.report('throttle')).toMatchObject({ cause: 'unknown', rate: 15, changed: true });
  });

  test('the rate probes back up step by step after quiet intervals, slowly near the rate that was refused', async () => {
    const { ctl } = make(redis, { increaseStep: 2, slowStep: 0.25, nearCeiling: 0.9 });
    await ctl.report('throttle'); // ceiling 20, rate 15
    expect((await ctl.report('success')).changed).toBe(false); // too soon after the cut
    const steps: number[] = [];
    for (let i = 0; i < 3; i++) {
      await sleep(320);
      steps.push((await ctl.report('success')).rate);
    }
    // 15 -> 17 -> 19 (fast, below 0.9 x 20 = 18) -> 19.25 (slow, near the ceiling)
    expect(steps).toEqual([17, 19, 19.25]);
  });

  test('a ceiling not confirmed for ceilingMemoryMs is forgotten: fast steps again', async () => {
    const { ctl } = make(redis, { increaseStep: 2, slowStep: 0.25, ceilingMemoryMs: 1000, guardMs: 0 });
    await ctl.report('throttle'); // 15
    await sleep(1050);
    expect((await ctl.report('success')).rate).toBe(17);
  });

  test('the guard narrows while no throttle comes: fast, then slowly within one widening of the guard that failed, never below the floor', async () => {
    const { ctl, keys } = make(redis, { guardMs: 30, guardWidenMs: 10, guardNarrowMs: 4, guardSlowNarrowMs: 1, minGuardMs: 21 });
    const at = await redisNow();
    await logSends(keys.sends, 20, at);
    expect((await ctl.report('throttle', at)).guardMs).toBe(40); // 30 failed
    const guards: number[] = [];
    for (let i = 0; i < 4; i++) {
      await sleep(320);
      guards.push((await ctl.report('success')).guardMs);
    }
    // Fast (4 ms) down to 35 (half a widening above the 30 that failed), then slow (1 ms).
    expect(guards).toEqual([36, 32, 31, 30]);

    const fresh = make(redis, { guardMs: 30, guardNarrowMs: 4, minGuardMs: 21 });
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      await sleep(320);
      seen.push((await fresh.ctl.report('success')).guardMs);
    }
    expect(seen).toEqual([26, 22, 21]);
  });

  test('never cuts below the floor, never widens past the widest guard', async () => {
    const { ctl, keys } = make(redis, { decreaseCooldownMs: 0, minRate: 2, maxGuardMs: 45, guardWidenMs: 10 });
    for (let i = 0; i < 30; i++) await ctl.report('throttle');
    expect((await ctl.report('get')).rate).toBe(2);
    const g = make(redis, { decreaseCooldownMs: 0, maxGuardMs: 45, guardWidenMs: 10 });
    const now = await redisNow();
    for (let i = 0; i < 5; i++) {
      // Each refused call sent well after the decision before it (send times ahead of Redis's clock).
      const at = now + 2000 * (i + 1);
      await logSends(g.keys.sends, 20, at);
      await g.ctl.report('throttle', at);
    }
    expect((await g.ctl.report('get')).guardMs).toBe(45);
    await redis.del(keys.state);
  });

  test("writes the spacing into Bottleneck's settings with each decision and on sync, only when they exist; get writes nothing", async () => {
    const { ctl, keys } = make(redis);
    await ctl.report('throttle'); // 15
    expect(await redis.exists(keys.settings)).toBe(0); // never creates a half-made settings hash
    await redis.hset(keys.settings, 'minTime', '1', 'nextRequest', '0');
    await ctl.report('get');
    expect(await redis.hget(keys.settings, 'minTime')).toBe('1');
    await ctl.report('sync');
    expect(Number(await redis.hget(keys.settings, 'minTime'))).toBeCloseTo(1025 / 15 + 0.5);
    await sleep(320);
    await ctl.report('throttle'); // 15 -> 11.25
    expect(Number(await redis.hget(keys.settings, 'minTime'))).toBeCloseTo(1025 / 11.25 + 0.5);
    await redis.del(keys.settings, keys.state);
  });

  test('refuses options out of range, naming them', () => {
    expect(() => make(redis, { decreaseFactor: 1.5 })).toThrow('decreaseFactor');
    expect(() => make(redis, { minGuardMs: 300, maxGuardMs: 200 })).toThrow('minGuardMs');
  });
});
