/** What the HTTP server is built from (app.ts), handed to each of its route plugins (routes/). */
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { RescanProducer } from '../producer';
import type { RedisSettingsReport } from '../redisSettings';

export interface ServerDeps {
  config: Config;
  logger: Logger;
  producer: RescanProducer;
  redis: Redis;
  /** What the start-up check found about the Redis settings (src/redisSettings.ts); shown by /readyz. */
  redisSettings?: RedisSettingsReport;
}
