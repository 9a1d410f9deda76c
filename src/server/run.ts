/** Starts the HTTP server with its own connections; `close()` stops it and them. */
import IORedis from 'ioredis';
import { requireServerAccess, type Config } from '../config';
import { startHeartbeat } from '../heartbeat';
import type { Logger } from '../logger';
import { RescanProducer } from '../producer';
import { buildServer } from './app';

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(cfg: Config, logger: Logger): Promise<RunningServer> {
  requireServerAccess(cfg.server);
  const producer = new RescanProducer({
    redisUrl: cfg.redisUrl,
    queueName: cfg.queueName,
    maxAssetsPerCall: cfg.tcss.maxAssetsPerCall,
    maxAttempts: cfg.tcss.maxAttempts,
    backoffMs: cfg.tcss.backoffMs,
  });
  const redis = new IORedis(cfg.redisUrl, { maxRetriesPerRequest: 1 });
  const app = await buildServer({ config: cfg, logger, producer, redis });
  await app.listen({ host: cfg.server.host, port: cfg.server.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : cfg.server.port;
  const host = cfg.server.host.includes(':') ? `[${cfg.server.host}]` : cfg.server.host;
  const url = `http://${host}:${port}`;
  // Liveness for container platforms that probe a file (the HTTP probes are /healthz and /readyz).
  const heartbeat = cfg.heartbeatFile ? startHeartbeat(cfg.heartbeatFile, () => app.server.listening, logger) : undefined;
  logger.info({ url, dashboard: `${url}/dashboard`, auth: cfg.server.authEnabled ? 'on' : 'off', readOnlyDashboard: cfg.server.dashboardReadOnly }, 'server listening');
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
