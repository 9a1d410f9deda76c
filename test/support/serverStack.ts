/**
 * A server on the suite's Redis with a simulator behind it: what the server tests that need real jobs
 * (dashboard, OpenAPI, metrics) share. The simulator refuses one check item (`failingItem`) with
 * InvalidParameterValue, so a test gets a failed job beside completed ones; `close()` stops everything
 * and deletes the queue's keys.
 */
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { RescanProducer } from '../../src/producer';
import { startServer, type RunningServer } from '../../src/server/run';
import { startSimulator, type Simulator } from '../../src/simulator';
import { RescanWorker } from '../../src/worker';
import { deleteQueueKeys, redisClient, testRedisUrl, uniqueName } from './redis';

export interface ServerStack {
  sim: Simulator;
  cfg: Config;
  servers: RunningServer[];
  producer: RescanProducer;
  /** Set by startWorker() (or at start with `worker: true`). */
  worker?: RescanWorker;
  startWorker(): Promise<RescanWorker>;
  close(): Promise<void>;
}

export async function startServerStack(o: {
  queuePrefix: string;
  password: string;
  failingItem: number;
  /** More variables (SERVER_API_TOKEN, ...). */
  env?: Record<string, string>;
  /** Replicas on the same Redis and queue. Default 1. */
  servers?: number;
  /** Start a worker at once. Default false. */
  worker?: boolean;
}): Promise<ServerStack> {
  const sim = await startSimulator({ port: 0 });
  sim.setFaults({ forcedErrors: { [String(o.failingItem)]: 'InvalidParameterValue' } });
  const cfg = loadConfig({
    REDIS_URL: testRedisUrl(),
    QUEUE_NAME: uniqueName(o.queuePrefix),
    TCSS_ENDPOINT: sim.url,
    SERVER_PORT: '0',
    SERVER_PASSWORD: o.password,
    ...o.env,
  });
  const servers: RunningServer[] = [];
  for (let i = 0; i < (o.servers ?? 1); i++) servers.push(await startServer(cfg, createLogger('silent')));
  const stack: ServerStack = {
    sim,
    cfg,
    servers,
    producer: new RescanProducer({ redisUrl: cfg.redisUrl, queueName: cfg.queueName }),
    async startWorker() {
      stack.worker = await RescanWorker.start({ config: cfg, logger: createLogger('silent') });
      return stack.worker;
    },
    async close() {
      for (const s of servers) await s.close();
      await stack.worker?.close();
      await stack.producer.queue.obliterate({ force: true });
      await stack.producer.close();
      const redis = redisClient();
      await deleteQueueKeys(redis, cfg.queueName);
      await redis.quit();
      await sim.close();
    },
  };
  if (o.worker) await stack.startWorker();
  return stack;
}
