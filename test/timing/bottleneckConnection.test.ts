/**
 * What we rely on in Bottleneck 2.19.5, proven against a real Redis 7 (the suite's own server):
 * cluster-wide spacing between limiters on separate connections, settings shared through Redis, and
 * recovery when its keys vanish — which the stock connection does not do on Redis 7 (test 1), and
 * independence from the callers' clocks, which the stock scripts do not have (test 2).
 */
import Bottleneck from 'bottleneck';
import {
  createBottleneckConnection,
  createStockBottleneckConnection,
  normaliseScriptError,
  scriptWithRedisClock,
  updateSettings,
} from '../../src/budget/bottleneckConnection';
import { maxInWindow } from '../../src/simulator';
import { redisClient, testRedisUrl, uniqueName } from '../support/redis';

type Conn = Bottleneck.IORedisConnection;

function limiter(connection: Conn, id: string, options: Bottleneck.ConstructorOptions = {}): Bottleneck {
  const l = new Bottleneck({ id, datastore: 'ioredis', connection, clearDatastore: false, ...options });
  l.on('error', () => undefined);
  return l;
}

async function closeAll(limiters: Bottleneck[], conns: Conn[]): Promise<void> {
  for (const l of limiters) await Promise.resolve(l.disconnect(false)).catch(() => undefined);
  for (const c of conns) await c.disconnect(false).catch(() => undefined);
}

async function deleteKeys(id: string): Promise<number> {
  const r = redisClient();
  const keys = await r.keys(`b_${id}_*`);
  if (keys.length) await r.del(...keys);
  await r.quit();
  return keys.length;
}

describe('Bottleneck on Redis 7', () => {
  test("Redis 7 prefixes ERR to script errors; we strip it only from Bottleneck's own codes", () => {
    const e = new Error('ERR SETTINGS_KEY_NOT_FOUND');
    expect((normaliseScriptError(e) as Error).message).toBe('SETTINGS_KEY_NOT_FOUND');
    expect((normaliseScriptError(new Error('ERR UNKNOWN_CLIENT')) as Error).message).toBe('UNKNOWN_CLIENT');
    expect((normaliseScriptError(new Error('ERR OVERWEIGHT:3:2')) as Error).message).toBe('OVERWEIGHT:3:2');
    expect((normaliseScriptError(new Error('ERR wrong number of arguments')) as Error).message).toBe(
      'ERR wrong number of arguments',
    );
    expect((normaliseScriptError(new Error('ERR SETTINGS_KEY_NOT_FOUND_X')) as Error).message).toBe(
      'ERR SETTINGS_KEY_NOT_FOUND_X',
    );
  });

  test('every script reads the time from Redis, none from the caller', () => {
    // Bottleneck's script registry has no typings and no ES export: a plain require of its CommonJS file.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Scripts = require('bottleneck/lib/Scripts') as { names: string[] };
    for (const name of Scripts.names) {
      const src = scriptWithRedisClock(name);
      expect(src).not.toContain('local now = tonumber(ARGV[1])');
      expect(src).toContain("redis.call('time')");
    }
  });

  test('stock connection: once its keys vanish, every call fails on Redis 7; ours recovers by itself', async () => {
    const stockId = uniqueName('stock');
    const fixedId = uniqueName('fixed');
    const stockConn = createStockBottleneckConnection(testRedisUrl());
    const fixedConn = createBottleneckConnection(testRedisUrl());
    const stock = limiter(stockConn, stockId, { minTime: 5 });
    const fixed = limiter(fixedConn, fixedId, { minTime: 5 });
    try {
      await expect(stock.schedule(async () => 'ok')).resolves.toBe('ok');
      await expect(fixed.schedule(async () => 'ok')).resolves.toBe('ok');
      // As after a Redis restart without persistence, or a failover to an empty replica.
      expect(await deleteKeys(stockId)).toBeGreaterThan(0);
      expect(await deleteKeys(fixedId)).toBeGreaterThan(0);

      await expect(stock.schedule(async () => 'ok')).rejects.toThrow('ERR SETTINGS_KEY_NOT_FOUND');
      await expect(stock.schedule(async () => 'ok')).rejects.toThrow('ERR SETTINGS_KEY_NOT_FOUND');

      await expect(fixed.schedule(async () => 'again')).resolves.toBe('again');
      const results = await Promise.all([1, 2, 3].map((i) => fixed.schedule(async () => i)));
      expect(results).toEqual([1, 2, 3]);
    } finally {
      await closeAll([stock, fixed], [stockConn, fixedConn]);
    }
  });

  test('limiters on separate connections space their calls cluster-wide (minTime in Redis)', async () => {
    const id = uniqueName('spacing');
    const conns = [0, 1, 2].map(() => createBottleneckConnection(testRedisUrl()));
    const limiters = conns.map((c) => limiter(c, id, { minTime: 20 }));
    try {
      const starts: number[] = [];
      // 3 "processes" x 20 calls, 20 ms apart cluster-wide -> 60 calls over ~1.2 s.
      await Promise.all(
        limiters.flatMap((l) =>
          Array.from({ length: 20 }, () =>
            l.schedule(async () => {
              starts.push(performance.now());
            }),
          ),
        ),
      );
      starts.sort((a, b) => a - b);
      expect(starts).toHaveLength(60);
      // Three limiters that did not share the spacing would finish in ~400 ms (20 calls each at 20 ms).
      // Shared, 60 calls need 59 gaps of 20 ms. Start times are local timers, late by a few ms under
      // load, so the window check allows a little bunching; the span cannot be shortened by lateness.
      const span = starts[starts.length - 1]! - starts[0]!;
      expect(span).toBeGreaterThanOrEqual(59 * 20 - 30);
      expect(maxInWindow(starts, 200)).toBeLessThanOrEqual(13);
    } finally {
      await closeAll(limiters, conns);
    }
  });

  test('updateSettings from one process changes the spacing for all', async () => {
    const id = uniqueName('settings');
    const conns = [0, 1].map(() => createBottleneckConnection(testRedisUrl()));
    const [a, b] = conns.map((c) => limiter(c, id, { minTime: 1 })) as [Bottleneck, Bottleneck];
    try {
      await a.schedule(async () => undefined);
      await b.schedule(async () => undefined);
      await updateSettings(a, { minTime: 100 });
      const starts: number[] = [];
      await Promise.all(Array.from({ length: 5 }, () => b.schedule(async () => starts.push(performance.now()))));
      starts.sort((x, y) => x - y);
      expect(starts[4]! - starts[0]!).toBeGreaterThanOrEqual(4 * 100 - 20);
    } finally {
      await closeAll([a, b], conns);
    }
  });

  test('a caller whose clock is off neither stalls nor bursts the cluster (the stock scripts do)', async () => {
    // The stock scripts take `now` from the caller's Date.now(). A caller 2 s behind the others finds
    // `nextRequest`, set by their clocks, 2 s ahead and waits it out; one 2 s ahead sends at once,
    // however recent the last call. With Redis's clock both behave like everyone else.
    const timeNextCall = async (conn: Conn, id: string): Promise<number> => {
      const l = limiter(conn, id, { minTime: 10 });
      const realNow = Date.now;
      try {
        await l.schedule(async () => undefined);
        Date.now = () => realNow() - 2000;
        const t0 = performance.now();
        await l.schedule(async () => undefined);
        return performance.now() - t0;
      } finally {
        Date.now = realNow;
        await closeAll([l], [conn]);
      }
    };
    expect(
      await timeNextCall(createStockBottleneckConnection(testRedisUrl()), uniqueName('clock-stock')),
    ).toBeGreaterThan(1500);
    expect(await timeNextCall(createBottleneckConnection(testRedisUrl()), uniqueName('clock-fixed'))).toBeLessThan(500);
  });
});
