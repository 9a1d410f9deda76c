import type { Redis } from 'ioredis';
import { AdaptiveRate } from '../src/adaptiveRate';
import { redisClient, sleep, uniqueName } from './support/redis';

describe('AdaptiveRate (cluster-wide AIMD in Redis)', () => {
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

  function make(client: Redis, state: string, settings: string, extra = {}): AdaptiveRate {
    return new AdaptiveRate(client, state, settings, { maxRate: 20, decreaseFactor: 0.75, decreaseCooldownMs: 300, increaseIntervalMs: 300, increaseStep: 1, slowStep: 1, marginMs: 0.5, ...extra });
  }

  test('starts at the limit; a burst of throttles from many workers is one cut', async () => {
    const state = uniqueName('aimd');
    const a = make(redis, state, uniqueName('settings'));
    const b = make(other, state, uniqueName('settings'));
    expect(await a.report('get')).toEqual({ rate: 20, changed: false });
    const burst = await Promise.all([a.report('throttle'), b.report('throttle'), a.report('throttle'), b.report('throttle')]);
    expect(burst.filter((d) => d.changed)).toHaveLength(1);
    expect((await b.report('get')).rate).toBe(15);
    await sleep(350);
    expect((await b.report('throttle')).rate).toBeCloseTo(11.25);
  });

  test('probes back up step by step after quiet intervals, never above the limit', async () => {
    const state = uniqueName('aimd');
    const a = make(redis, state, uniqueName('settings'));
    await a.report('throttle'); // 15
    expect((await a.report('success')).changed).toBe(false); // too soon after the cut
    await sleep(320);
    expect(await a.report('success')).toEqual({ rate: 16, changed: true });
    expect((await a.report('success')).changed).toBe(false); // one step per interval
    for (let i = 0; i < 6; i++) {
      await sleep(320);
      await a.report('success');
    }
    expect((await a.report('get')).rate).toBe(20);
  });

  test('probes slowly near the rate it was last throttled at, and forgets that ceiling after a while', async () => {
    const a = make(redis, uniqueName('aimd'), uniqueName('settings'), { increaseStep: 2, slowStep: 0.25, nearCeiling: 0.9, ceilingMemoryMs: 2000 });
    await a.report('throttle'); // ceiling 20, rate 15
    const steps: number[] = [];
    for (let i = 0; i < 3; i++) {
      await sleep(320);
      steps.push((await a.report('success')).rate);
    }
    // 15 -> 17 -> 19 (fast, below 0.9 x 20 = 18) -> 19.25 (slow, near the ceiling)
    expect(steps).toEqual([17, 19, 19.25]);
    await sleep(2000); // no throttle for ceilingMemoryMs: the ceiling is forgotten, fast steps again
    expect((await a.report('success')).rate).toBe(20);
  });

  test('never cuts below the floor', async () => {
    const a = make(redis, uniqueName('aimd'), uniqueName('settings'), { decreaseCooldownMs: 0, minRate: 2 });
    for (let i = 0; i < 30; i++) await a.report('throttle');
    expect((await a.report('get')).rate).toBe(2);
  });

  test('writes the new spacing into the Bottleneck settings, only when they exist', async () => {
    const settings = uniqueName('settings');
    const a = make(redis, uniqueName('aimd'), settings);
    await a.report('throttle');
    expect(await redis.exists(settings)).toBe(0); // never creates a half-made settings hash
    await redis.hset(settings, 'minTime', '50.5', 'nextRequest', '0');
    await sleep(320);
    await a.report('throttle'); // 15 -> 11.25
    expect(Number(await redis.hget(settings, 'minTime'))).toBeCloseTo(1000 / 11.25 + 0.5);
    await redis.del(settings);
  });

  test('refuses a decrease factor outside (0, 1)', () => {
    expect(() => make(redis, 'x', 'y', { decreaseFactor: 1.5 })).toThrow('decreaseFactor');
  });
});
