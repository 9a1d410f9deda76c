/** Starts the suite's own throwaway redis-server and hands its URL to every test file (TEST_REDIS_URL). */
import { startRedisServer } from '../../src/redisServer';

export default async function globalSetup(): Promise<void> {
  const redis = await startRedisServer();
  process.env.TEST_REDIS_URL = redis.url;
  (globalThis as { __testRedis?: unknown }).__testRedis = redis;
}
