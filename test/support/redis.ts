/** Helpers for tests: the suite's own Redis (never a Redis the tests did not start), unique names. */
import { randomUUID } from 'node:crypto';
import IORedis, { type Redis } from 'ioredis';
import { queueTag } from '../../src/keys';

export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL is not set: run the tests with `npm test` (jest globalSetup starts Redis)');
  return url;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function redisClient(url = testRedisUrl()): Redis {
  return new IORedis(url, { maxRetriesPerRequest: null });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs = 20_000,
  stepMs = 100,
  what = 'condition',
): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as Exclude<T, undefined | null | false | 0 | ''>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** Deletes every key tcss-rescan keeps for a queue (`tcss-rescan:{<queue>}:*`, see src/keys.ts) on the test Redis. */
export async function deleteQueueKeys(redis: Redis, queueName: string): Promise<void> {
  const found = await redis.keys(`${queueTag(queueName)}:*`);
  if (found.length) await redis.del(...found);
}
