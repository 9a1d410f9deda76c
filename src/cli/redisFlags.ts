/** `--redis-url` and `--queue` on the verbs that use Redis, and the configuration and producer they give. */
import type { Command } from 'commander';
import { loadConfigOverriding, type Config } from '../config';
import { RescanProducer } from '../producer';
import { producerOptionsFrom } from '../wiring';

/** `--redis-url` and `--queue`, on the verbs that use Redis. */
export interface RedisFlags {
  redisUrl?: string;
  queue?: string;
}

/** Adds `--redis-url` and `--queue` to a verb that uses Redis. */
export function withRedisFlags(cmd: Command): Command {
  return cmd
    .option('--redis-url <url>', 'Redis URL (overrides REDIS_URL)')
    .option('--queue <name>', 'queue name (overrides QUEUE_NAME)');
}

/** The configuration, with `--redis-url`/`--queue` (when given) in place of REDIS_URL/QUEUE_NAME. */
export function configFrom(flags: RedisFlags = {}): Config {
  return loadConfigOverriding({ REDIS_URL: flags.redisUrl, QUEUE_NAME: flags.queue });
}

export function producerFor(cfg: Config): RescanProducer {
  return new RescanProducer(producerOptionsFrom(cfg));
}
