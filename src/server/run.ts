/** Starts the HTTP server with its own connections; `close()` stops it and them. */
import { requireServerAccess, type Config } from '../config';
import { startHeartbeat } from '../heartbeat';
import type { Logger } from '../logger';
import { RescanProducer } from '../producer';
import { FailFastConnection, oncePerOutage } from '../redisFailFast';
import { describeRedis, redisConnectionWarnings } from '../redisConnection';
import { checkRedisSettings, logRedisSettings } from '../redisSettings';
import { producerOptionsFrom } from '../wiring';
import { buildServer } from './app';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(cfg: Config, logger: Logger): Promise<RunningServer> {
  requireServerAccess(cfg.server);
  const producer = new RescanProducer({
    ...producerOptionsFrom(cfg),
    // Short stretches of work per chunk: this process also answers /healthz (issue 10, point 11).
    bulkChunk: 100,
    bulkLanes: 2,
  });
  // Reads (probes, /v1/tasks, /metrics) fail fast too, answering 503 rather than holding requests.
  const conn = new FailFastConnection(cfg.redis, cfg.producerTimeoutMs);
  const redis = conn.client;
  const redisLog = oncePerOutage(logger, 'server: Redis connection error');
  redis.on('error', redisLog.error);
  redis.on('ready', redisLog.ready);
  for (const w of redisConnectionWarnings(cfg.redis)) logger.warn({ redis: describeRedis(cfg.redis) }, w);
  // Redis down at start does not stop the server (/readyz says so); the settings are then not checked.
  await conn.ready('the Redis settings were not checked').catch(() => undefined);
  const redisSettings = await checkRedisSettings(redis);
  logRedisSettings(redisSettings, logger);
  const app = await buildServer({ config: cfg, logger, producer, redis, redisSettings });
  await app.listen({ host: cfg.server.host, port: cfg.server.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.server.port;
  const host = cfg.server.host.includes(':') ? `[${cfg.server.host}]` : cfg.server.host;
  const url = `http://${host}:${port}`;
  // Liveness for container platforms that probe a file (the HTTP probes are /healthz and /readyz).
  const heartbeat = cfg.heartbeatFile
    ? startHeartbeat(cfg.heartbeatFile, () => app.server.listening, logger)
    : undefined;
  logger.info(
    {
      url,
      dashboard: `${url}/dashboard`,
      auth: cfg.server.authEnabled ? 'on' : 'off',
      readOnlyDashboard: cfg.server.dashboardReadOnly,
    },
    'server listening',
  );
  return {
    url,
    async close() {
      heartbeat?.stop();
      await app.close();
      await producer.close();
      redis.disconnect();
    },
  };
}
