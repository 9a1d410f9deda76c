/** Starts the HTTP server with its own connections; `close()` stops it and them. */
import { requireServerAccess, type Config } from '../config';
import type { Logger } from '../logger';
import { RescanProducer } from '../producer';
import { createRedis, describeRedis, redisConnectionWarnings } from '../redisConnection';
import { checkRedisSettings, logRedisSettings } from '../redisSettings';
import { buildServer } from './app';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(cfg: Config, logger: Logger): Promise<RunningServer> {
  requireServerAccess(cfg.server);
  const producer = new RescanProducer({
    redisUrl: cfg.redisUrl,
    redis: cfg.redis,
    queueName: cfg.queueName,
    maxAssetsPerCall: cfg.tcss.maxAssetsPerCall,
    maxAttempts: cfg.tcss.maxAttempts,
    backoffMs: cfg.tcss.backoffMs,
  });
  const redis = createRedis(cfg.redis, { maxRetriesPerRequest: 1 });
  for (const w of redisConnectionWarnings(cfg.redis)) logger.warn({ redis: describeRedis(cfg.redis) }, w);
  await producer.queue.waitUntilReady();
  const redisSettings = await checkRedisSettings(redis);
  logRedisSettings(redisSettings, logger);
  const app = await buildServer({ config: cfg, logger, producer, redis, redisSettings });
  await app.listen({ host: cfg.server.host, port: cfg.server.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.server.port;
  const host = cfg.server.host.includes(':') ? `[${cfg.server.host}]` : cfg.server.host;
  const url = `http://${host}:${port}`;
  logger.info({ url, dashboard: `${url}/dashboard`, auth: cfg.server.authEnabled ? 'on' : 'off', readOnlyDashboard: cfg.server.dashboardReadOnly }, 'server listening');
  return {
    url,
    async close() {
      await app.close();
      await producer.close();
      redis.disconnect();
    },
  };
}
