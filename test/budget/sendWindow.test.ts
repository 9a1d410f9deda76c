import type { Redis } from 'ioredis';
import { SEND_LOG_RETAIN_MS } from '../../src/budget/adaptiveRate';
import { PACE_TOLERANCE, SendWindow } from '../../src/budget/sendWindow';
import { maxInWindow } from '../../src/simulator';
import { redisClient, uniqueName } from '../support/redis';

// The window is 1000 + guard ms; a guard of -700 makes it 300 ms, so that the tests run fast.
const W300 = -700;
const keysOf = (key: string, state = `${key}:no-state`) => ({
  sends: key,
  state,
  marker: `${key}:marker`,
  pace: `${key}:pace`,
});

/** Every entry of a send log (ours and `assumed:` ones), by Redis's clock. Entries are kept 6 s, longer than any test here. */
async function logTimes(redis: Redis, key: string): Promise<number[]> {
  const flat = await redis.zrange(key, '0', '-1', 'WITHSCORES');
  return flat.filter((_, i) => i % 2 === 1).map(Number);
}

describe('SendWindow (the hard ceiling at send time)', () => {
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

  test('lets at most `limit` sends through per window, holds the next until the oldest leaves it', async () => {
    const key = uniqueName('sends');
    await redis.set(`${key}:marker`, '1'); // a log that has been running (see the loss test below)
    const a = new SendWindow(redis, keysOf(key), 5, W300, 'a');
    const b = new SendWindow(other, keysOf(key), 5, W300, 'b');
    const times: number[] = [];
    // The log's own entries, scored by Redis's clock when each send was allowed (collected as they
    // come, before the log prunes them): the ceiling's promise is about those, not about when this
    // process got around to resolving a promise.
    const granted = new Map<string, number>();
    const snapshot = async () => {
      const flat = await redis.zrange(key, '0', '-1', 'WITHSCORES');
      for (let i = 0; i + 1 < flat.length; i += 2)
        if (!flat[i]!.startsWith('assumed:')) granted.set(flat[i]!, Number(flat[i + 1]));
    };
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? a : b).acquire().then(async () => {
          times.push(performance.now() - t0);
          await snapshot();
        }),
      ),
    );
    times.sort((x, y) => x - y);
    // Late timers can only make sends look later, never earlier: at most 5 in the first half window.
    expect(times.filter((t) => t < 150).length).toBeLessThanOrEqual(5);
    // 12 sends, 5 per 300 ms: the last ones wait for two windows to pass.
    expect(times[11]!).toBeGreaterThanOrEqual(600 - 5);
    // However the sends were interleaved, no window of 300 ms held more than 5, by Redis's clock.
    expect(granted.size).toBe(12);
    expect(
      maxInWindow(
        [...granted.values()].sort((x, y) => x - y),
        300,
      ),
    ).toBeLessThanOrEqual(5);
    expect(a.waits + b.waits).toBeGreaterThan(0);
    await redis.del(key);
  });

  test("follows the cluster's adaptive rate when it is below the limit", async () => {
    const key = uniqueName('sends');
    const rateKey = `${key}:rate`;
    // Limit 10 per 500 ms (guard -500); the controller says 6/s, i.e. 3 per 500 ms.
    await redis.hset(rateKey, 'rate', '6', 'guard', '-500');
    await redis.set(`${key}:marker`, '1');
    const w = new SendWindow(redis, keysOf(key, rateKey), 10, 0, 'a');
    const t0 = performance.now();
    const times: number[] = [];
    await Promise.all(Array.from({ length: 6 }, () => w.acquire().then(() => times.push(performance.now() - t0))));
    times.sort((x, y) => x - y);
    expect(times.filter((t) => t < 250).length).toBeLessThanOrEqual(3);
    expect(times[3]!).toBeGreaterThanOrEqual(500 - 5);
    await redis.del(key, rateKey);
  });

  test('when Redis lost the log, it assumes the last window was full: no burst after a restart', async () => {
    const key = uniqueName('sends');
    const w = new SendWindow(redis, keysOf(key), 5, W300, 'a');
    await w.acquire();
    // As after a restart without persistence: every key gone.
    await redis.del(key, `${key}:marker`);
    const t0 = performance.now();
    const times: number[] = [];
    // More than two windows' worth of sends at once: the window has to hold most of them back.
    const sentAt = await Promise.all(
      Array.from({ length: 12 }, () => w.acquire().then((at) => (times.push(performance.now() - t0), at))),
    );
    times.sort((x, y) => x - y);
    // An empty log would let 5 go at once; seeded, they leave at the smooth pace (300 / 5 ms).
    expect(times.filter((t) => t < 100).length).toBeLessThanOrEqual(1);
    // The 12th waits for 11 spacings (timers can only be late, never early).
    expect(times[11]!).toBeGreaterThanOrEqual(11 * 60 - 10);
    // By Redis's clock, never more than 5 in 300 ms: ours, and ours with the assumed ones (the sends Redis forgot).
    expect(maxInWindow(sentAt, 300)).toBeLessThanOrEqual(5);
    expect(maxInWindow(await logTimes(redis, key), 300)).toBeLessThanOrEqual(5);
    await redis.del(key, `${key}:marker`);
  });

  test("acquire returns the send time it logged, by Redis's clock; peek logs nothing", async () => {
    const key = uniqueName('sends');
    await redis.set(`${key}:marker`, '1');
    const w = new SendWindow(redis, keysOf(key), 5, W300, 'a');
    await w.peek();
    expect(await redis.zcard(key)).toBe(0);
    const [s, us] = await redis.time();
    const before = Number(s) * 1000 + Math.floor(Number(us) / 1000);
    const sentAt = await w.acquire();
    expect(sentAt).toBeGreaterThanOrEqual(before);
    // The log was quiet, so it was seeded with `assumed:` entries first (see the test below); ours is one.
    const entries = await redis.zrange(key, '0', '-1', 'WITHSCORES');
    const ours = entries.flatMap((m, i) => (i % 2 === 0 && m.startsWith('a:') ? [Number(entries[i + 1])] : []));
    expect(ours).toEqual([sentAt]);
    await redis.del(key, `${key}:marker`);
  });

  test('after a quiet window (or a failover to a replica that missed the last sends), sends queued up leave at the smooth pace', async () => {
    const key = uniqueName('sends');
    const w = new SendWindow(redis, keysOf(key), 5, W300, 'a');
    await w.acquire();
    // The marker survives (as on a promoted replica), but nothing is left in the last window, and the
    // last seeding is more than two windows old. (Redis's clock has to move: the window reads TIME.)
    await new Promise((r) => setTimeout(r, 700));
    const t0 = performance.now();
    const times: number[] = [];
    const sentAt = await Promise.all(
      Array.from({ length: 12 }, () => w.acquire().then((at) => (times.push(performance.now() - t0), at))),
    );
    times.sort((x, y) => x - y);
    // An unseeded log would let 5 go at once.
    expect(times.filter((t) => t < 100).length).toBeLessThanOrEqual(2);
    expect(times[11]!).toBeGreaterThanOrEqual(11 * 60 - 10);
    expect(maxInWindow(sentAt, 300)).toBeLessThanOrEqual(5);
    expect(maxInWindow(await logTimes(redis, key), 300)).toBeLessThanOrEqual(5);
    await redis.del(key, `${key}:marker`);
  });

  test('at a limit of 1 (the controller cut the rate to 1/s), sends keep going: a quiet log is not seeded again at once', async () => {
    const key = uniqueName('sends');
    const rateKey = `${key}:rate`;
    // 1/s over a 300 ms window: a limit of 1 per window.
    await redis.hset(rateKey, 'rate', '1', 'guard', String(W300));
    await redis.set(`${key}:marker`, '1');
    const w = new SendWindow(redis, keysOf(key, rateKey), 20, W300, 'a');
    const t0 = performance.now();
    const sentAt: number[] = [];
    for (let i = 0; i < 4; i++) sentAt.push(await w.acquire());
    // Seeded once (one window's wait), then one send per window: about 4 windows, never a livelock.
    expect(performance.now() - t0).toBeLessThan(3_000);
    // One per window, by Redis's clock: the limit of 1 held.
    expect(maxInWindow(sentAt, 300)).toBe(1);
    await redis.del(key, rateKey, `${key}:marker`);
  });

  test('a window with room does not let sends that bunched up go at once: they leave at the smooth pace', async () => {
    const key = uniqueName('sends');
    // 10 per 300 ms (pace 30 ms). A running log (marker set now, so it is not seeded) with 2 sends in the
    // last window, then 8 sends that reach the script together (as commands a Cluster client held while
    // it refreshed its slots): the window has room for all 8 by count.
    const [s, us] = await redis.time();
    const now = Number(s) * 1000 + Math.floor(Number(us) / 1000);
    await redis.set(`${key}:marker`, String(now));
    await redis.zadd(key, now - 100, 'earlier:1', now - 50, 'earlier:2');
    const w = new SendWindow(redis, keysOf(key), 10, W300, 'a');
    const sentAt = (await Promise.all(Array.from({ length: 8 }, () => w.acquire()))).sort((x, y) => x - y);
    // Without the pace they would all carry the same millisecond; with it, consecutive sends are at
    // least the pace apart but for the half-pace tolerance (Redis's clock, whole ms).
    const gaps = sentAt.slice(1).map((t, i) => t - sentAt[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(30 * (1 - PACE_TOLERANCE) - 1);
    expect(sentAt[7]! - sentAt[0]!).toBeGreaterThanOrEqual(7 * 30 - 30 * PACE_TOLERANCE - 1);
    expect(maxInWindow(await logTimes(redis, key), 300)).toBeLessThanOrEqual(10);
    await redis.del(key, `${key}:marker`, `${key}:pace`);
  });

  test('keys expire on their own', async () => {
    const key = uniqueName('sends');
    await new SendWindow(redis, keysOf(key), 5, W300, 'a').acquire();
    for (const k of [key, `${key}:pace`]) {
      const ttl = await redis.pttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(2 * SEND_LOG_RETAIN_MS);
    }
  });
});
