/**
 * `npm run demo`: the whole path on this machine, against the simulator. Redis at REDIS_URL (or a
 * throwaway redis-server when nothing answers there), the simulator on a free port, two workers sharing
 * one budget, a sample workload on the queue `<QUEUE_NAME>-demo`, then a summary of what happened.
 * It never calls the real API, whatever credentials the environment holds.
 */
import IORedis from 'ioredis';
import { loadConfig, type Config } from './config';
import { createLogger } from './logger';
import { RescanProducer } from './producer';
import { RecordStore } from './records';
import { redisAnswers, redisServerBinary, startRedisServer, type RedisServerHandle } from './redisServer';
import { DEMO_SECRET_ID, DEMO_SECRET_KEY, startSimulator } from './simulator';
import { queueStatus } from './status';
import { RescanWorker } from './worker';

export interface DemoOptions {
  jobs: number;
  /** Worker instances (each with its own connections, sharing the budget through Redis). Default 2. */
  workers?: number;
  out?: NodeJS.WritableStream;
}

export interface DemoSummary {
  jobs: number;
  completed: number;
  failed: number;
  calls: number;
  taskIdsRecorded: number;
  throttled: number;
  achievedRps: number;
  maxInAnyWindow: number;
  seconds: number;
}

/** A sample workload: single assets, small sets, a few large requests that are split into batches. */
export function sampleRescans(n: number): { policyItemId: number; assetIds: number[]; assetType?: string }[] {
  const types = ['ASSET_CONTAINER', 'ASSET_IMAGE', 'ASSET_HOST', undefined];
  return Array.from({ length: n }, (_, i) => {
    const size = i % 50 === 49 ? 250 : i % 5 === 0 ? 3 : 1;
    const assetType = types[i % types.length];
    return {
      policyItemId: 10001 + (i % 10),
      assetIds: Array.from({ length: size }, (_, k) => 2_200_000 + i * 300 + k),
      ...(assetType ? { assetType } : {}),
    };
  });
}

export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const out = opts.out ?? process.stdout;
  const say = (s: string) => out.write(s + '\n');
  const base = loadConfig();
  // The demo shows its own progress; the workers' JSON logs would drown it (LOG_LEVEL=debug shows them).
  const logger = createLogger(base.logLevel === 'info' ? 'warn' : base.logLevel);

  let throwaway: RedisServerHandle | undefined;
  let redisUrl = base.redisUrl;
  if (!(await redisAnswers(redisUrl))) {
    try {
      redisServerBinary();
    } catch (err) {
      throw new Error(`nothing answers at REDIS_URL=${redisUrl}, and ${(err as Error).message}`);
    }
    throwaway = await startRedisServer();
    redisUrl = throwaway.url;
    say(`no Redis answered at ${base.redisUrl}: started a throwaway redis-server at ${redisUrl} (gone when the demo ends)`);
  } else {
    say(`Redis: ${redisUrl}`);
  }

  const simOptions = { host: '127.0.0.1', rateLimit: Math.round(base.tcss.rateLimit) || 20 };
  // SIM_PORT when free (so reruns share one budget's keys in Redis), any free port otherwise.
  const sim = await startSimulator({ ...simOptions, port: base.simulator.port }).catch(() => startSimulator({ ...simOptions, port: 0 }));
  say(`TCSS simulator: ${sim.url} (sliding 1-second window, ${Math.round(base.tcss.rateLimit) || 20} req/s)`);
  const cfg: Config = {
    ...base,
    redisUrl,
    queueName: `${base.queueName}-demo`,
    tcss: { ...base.tcss, endpoint: new URL(sim.url), credentials: { secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY }, usingDemoCredentials: true },
  };

  const producer = new RescanProducer({ redisUrl, queueName: cfg.queueName, maxAssetsPerCall: cfg.tcss.maxAssetsPerCall, maxAttempts: cfg.tcss.maxAttempts, backoffMs: cfg.tcss.backoffMs });
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const records = new RecordStore(redis, { queueName: cfg.queueName, maxLen: cfg.recordsMaxLen, ttlSeconds: cfg.recordTtlSeconds });
  const workers: RescanWorker[] = [];
  try {
    // The demo queue is ours: start it empty so the numbers below are this run's.
    await producer.queue.obliterate({ force: true });
    await redis.del(records.streamKey);
    for (const key of await redis.keys(`tcss-rescan:${cfg.queueName}:*`)) await redis.del(key);
    const nWorkers = opts.workers ?? 2;
    for (let i = 0; i < nWorkers; i++) workers.push(await RescanWorker.start({ config: cfg, logger }));
    say(`${nWorkers} workers on queue ${cfg.queueName}, sharing one budget of ${cfg.tcss.rateLimit} req/s through Redis`);

    const { jobIds } = await producer.enqueueMany(sampleRescans(opts.jobs));
    say(`enqueued ${opts.jobs} rescans as ${jobIds.length} jobs (requests over ${cfg.tcss.maxAssetsPerCall} assets are split)`);

    const started = Date.now();
    let last = '';
    for (;;) {
      const { counts } = await queueStatus(producer.queue, redis);
      const done = counts.completed + counts.failed;
      const line = `  ${done}/${jobIds.length} done (completed ${counts.completed}, failed ${counts.failed}), ${sim.stats().total} calls`;
      if (line !== last) say(line);
      last = line;
      if (done >= jobIds.length) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const seconds = (Date.now() - started) / 1000;
    const stats = sim.stats();
    const calls = sim.calls();
    const firstArrival = calls[0]?.arrivalMs ?? 0;
    const lastArrival = calls[calls.length - 1]?.arrivalMs ?? 0;
    const busy = (lastArrival - firstArrival) / 1000;
    const { counts } = await queueStatus(producer.queue, redis);
    const summary: DemoSummary = {
      jobs: jobIds.length,
      completed: counts.completed,
      failed: counts.failed,
      calls: stats.total,
      taskIdsRecorded: await records.count(),
      throttled: stats.throttled,
      achievedRps: busy > 0 ? Math.round(((calls.length - 1) / busy) * 100) / 100 : 0,
      maxInAnyWindow: stats.maxInAnyWindow,
      seconds: Math.round(seconds * 10) / 10,
    };
    say('');
    say('summary');
    say(`  jobs                     ${summary.jobs}`);
    say(`  completed / failed       ${summary.completed} / ${summary.failed}`);
    say(`  API calls                ${summary.calls} (throttled: ${summary.throttled})`);
    say(`  TaskIds recorded         ${summary.taskIdsRecorded}`);
    say(`  achieved requests/s      ${summary.achievedRps} (limit ${cfg.tcss.rateLimit})`);
    say(`  most calls in any 1000 ms ${summary.maxInAnyWindow}`);
    say(`  time to drain            ${summary.seconds} s`);
    if (!throwaway) say(`\nsee the TaskIds: QUEUE_NAME=${cfg.queueName} npm run cli -- tasks`);
    return summary;
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await producer.close();
    redis.disconnect();
    await sim.close();
    if (throwaway) await throwaway.stop();
  }
}
