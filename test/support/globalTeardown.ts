import type { RedisServerHandle } from '../../src/redisServer';

export default async function globalTeardown(): Promise<void> {
  const redis = (globalThis as { __testRedis?: RedisServerHandle }).__testRedis;
  if (redis) await redis.stop();
}
