/**
 * A worker process as a user would write one without this project: a BullMQ Worker whose processor
 * calls the API through the same TCSS client, rate limited by one of the alternatives below. An API
 * error is thrown, so BullMQ retries the job (exponential backoff) as it would in such a service.
 *
 * Run by the benchmark as `node baselineWorker.js`, configured by environment:
 *   BENCH_BASELINE        one of BASELINES (below)
 *   REDIS_URL, QUEUE_NAME, TCSS_ENDPOINT, WORKER_CONCURRENCY
 * Prints `ready` once it takes jobs; SIGTERM/SIGINT close it.
 */
import Bottleneck from 'bottleneck';
import { Worker, type WorkerOptions } from 'bullmq';
import { loadConfig } from '../src/config';
import type { RescanJobData } from '../src/job';
import { createTcssClient } from '../src/tcss/client';

/** The alternatives, each named as the benchmark's tables name it. */
export const BASELINES = {
  'bullmq-20/1000ms': 'BullMQ limiter {max: 20, duration: 1000}',
  'bullmq-1/50ms': 'BullMQ limiter {max: 1, duration: 50}',
  'bottleneck-redis': 'Bottleneck, Redis (clustered, stock), minTime 50',
  'bottleneck-local': 'Bottleneck per process, no Redis, minTime 50',
} as const;

export type BaselineKind = keyof typeof BASELINES;

export function isBaselineKind(s: string | undefined): s is BaselineKind {
  return s !== undefined && Object.prototype.hasOwnProperty.call(BASELINES, s);
}

async function main(): Promise<void> {
  const kind = process.env.BENCH_BASELINE;
  if (!isBaselineKind(kind))
    throw new Error(
      `BENCH_BASELINE: expected one of ${Object.keys(BASELINES).join(', ')}, got ${JSON.stringify(kind)}`,
    );
  const cfg = loadConfig({
    REDIS_URL: process.env.REDIS_URL,
    QUEUE_NAME: process.env.QUEUE_NAME,
    TCSS_ENDPOINT: process.env.TCSS_ENDPOINT,
    WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY,
  });
  const client = createTcssClient(cfg.tcss);
  const redis = new URL(cfg.redisUrl);

  let bottleneck: Bottleneck | undefined;
  let limiter: WorkerOptions['limiter'];
  switch (kind) {
    case 'bullmq-20/1000ms':
      limiter = { max: 20, duration: 1000 };
      break;
    case 'bullmq-1/50ms':
      limiter = { max: 1, duration: 50 };
      break;
    case 'bottleneck-redis':
      bottleneck = new Bottleneck({
        id: `bench-baseline-${cfg.queueName}`,
        datastore: 'ioredis',
        clientOptions: { host: redis.hostname, port: Number(redis.port) },
        clearDatastore: false,
        minTime: 50,
      });
      await bottleneck.ready();
      break;
    case 'bottleneck-local':
      bottleneck = new Bottleneck({ minTime: 50 });
      break;
  }

  const call = (data: RescanJobData) =>
    client.scan({
      policyItemId: data.policyItemId,
      assetIds: data.assetIds,
      ...(data.assetType ? { assetType: data.assetType } : {}),
    });
  const worker = new Worker<RescanJobData>(
    cfg.queueName,
    async (job) => {
      const result = bottleneck ? await bottleneck.schedule(() => call(job.data)) : await call(job.data);
      return { taskId: result.taskId, requestId: result.requestId };
    },
    {
      connection: { url: cfg.redisUrl, maxRetriesPerRequest: null },
      concurrency: cfg.workerConcurrency,
      ...(limiter ? { limiter } : {}),
      // Jobs carry our custom backoff type; treat it as BullMQ's plain exponential backoff.
      settings: { backoffStrategy: (attemptsMade: number) => 1000 * 2 ** Math.max(0, attemptsMade - 1) },
    },
  );
  worker.on('error', () => undefined);
  await worker.waitUntilReady();
  process.stdout.write('ready\n');

  const stop = () => {
    void (async () => {
      await worker.close();
      await bottleneck?.disconnect(true);
      client.close();
      process.exit(0);
    })();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`baseline worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
