/** defineScript (src/budget/script.ts): named keys and arguments, loaded on first use, replies parsed. */
import type { Redis } from 'ioredis';
import { defineScript, replyNumber } from '../../src/budget/script';
import { redisClient, uniqueName } from '../support/redis';

describe('defineScript', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = redisClient();
  });
  afterAll(async () => {
    await redis.quit();
  });

  const incrBy = defineScript({
    name: 'incrBy',
    keys: ['counter'] as const,
    args: ['by', 'times'] as const,
    lua: `return redis.call('incrby', K.counter, tonumber(A.by) * tonumber(A.times))`,
    parse: replyNumber,
  });

  test('passes keys and arguments by name, in the declared order, and loads itself after SCRIPT FLUSH', async () => {
    const key = uniqueName('counter');
    expect(await incrBy.run(redis, { counter: key }, { by: 3, times: 2 })).toBe(6);
    await redis.script('FLUSH');
    expect(await incrBy.run(redis, { counter: key }, { times: 1, by: 4 })).toBe(10);
    await redis.del(key);
  });

  test('an unexpected reply is an error naming the script and the reply', async () => {
    const bad = defineScript({
      name: 'bad',
      keys: [] as const,
      args: [] as const,
      lua: `return 'nope'`,
      parse: replyNumber,
    });
    await expect(bad.run(redis, {}, {})).rejects.toThrow('script bad: unexpected reply "nope"');
  });

  test('refuses names that are not Lua identifiers', () => {
    expect(() =>
      defineScript({ name: 'x', keys: ['a-b'] as const, args: [] as const, lua: 'return 1', parse: replyNumber }),
    ).toThrow('a-b');
  });
});
