/**
 * `npm run demo`: the whole path on this machine, against the simulator. Redis at REDIS_URL (or a
 * throwaway redis-server when nothing answers there), the simulator, two workers sharing one budget,
 * the server with the dashboard (a fresh random password, printed), a sample workload on the queue
 * `<QUEUE_NAME>-demo` with a progress bar, then a summary of what happened.
 * It never calls the real API, whatever credentials the environment holds.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from './config';
import { createLogger } from './logger';
import { RescanProducer } from './producer';
import { createRedis } from './redisConnection';
import { queueTag } from './keys';
import { redisAnswers, redisServerBinary, startRedisServer, type RedisServerHandle } from './redisServer';
import { maxInWindow, startSimulator, type Simulator } from './simulator';
import { startServer, type RunningServer } from './server/run';
import { queueStatus } from './status';
import { producerOptionsFrom, recordStoreFrom, withDemoCredentials } from './wiring';
import { RescanWorker } from './worker';
import { errorMessage } from './redact';

export interface DemoOptions {
  jobs: number;
  /** Worker instances (each with its own connections, sharing the budget through Redis). Default 2. */
  workers?: number;
  out?: NodeJS.WritableStream;
  /** Keep the server (and workers) running after the summary, until Ctrl-C. Default false. */
  keepRunning?: boolean;
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

  const { redisUrl, throwaway } = await demoRedis(base.redisUrl, say);
  const simOptions = { host: '127.0.0.1', rateLimit: Math.round(base.tcss.rateLimit) || 20 };
  // SIM_PORT when free (so reruns share one budget's keys in Redis), any free port otherwise.
  const sim = await startSimulator({ ...simOptions, port: base.simulator.port }).catch(() =>
    startSimulator({ ...simOptions, port: 0 }),
  );
  say(`TCSS simulator: ${sim.url} (sliding 1-second window, ${Math.round(base.tcss.rateLimit) || 20} req/s)`);
  const password = randomBytes(12).toString('base64url');
  const cfg: Config = withDemoCredentials(
    {
      ...base,
      redisUrl,
      // A throwaway Redis replaces the configured set-up (Sentinel, Cluster, TLS) entirely.
      ...(throwaway ? { redis: loadConfig({ REDIS_URL: redisUrl }).redis } : {}),
      queueName: `${base.queueName}-demo`,
      server: { ...base.server, host: '127.0.0.1', authEnabled: true, password },
    },
    sim.url,
  );

  const producer = new RescanProducer(producerOptionsFrom(cfg));
  const redis = createRedis(cfg.redis, { maxRetriesPerRequest: null });
  const records = recordStoreFrom(cfg, redis);
  const workers: RescanWorker[] = [];
  let server: RunningServer | undefined;
  try {
    // The demo queue is ours: start it empty so the numbers below are this run's.
    await producer.queue.obliterate({ force: true });
    // Its records too (the stream included); SCAN, not KEYS, as this may be someone's real Redis.
    for await (const batch of redis.scanStream({ match: `${queueTag(cfg.queueName)}:*`, count: 500 })) {
      if ((batch as string[]).length > 0) await redis.del(...(batch as string[]));
    }
    const nWorkers = opts.workers ?? 2;
    for (let i = 0; i < nWorkers; i++) workers.push(await RescanWorker.start({ config: cfg, logger }));
    say(
      `${nWorkers} workers on queue ${cfg.queueName}, sharing one budget of ${cfg.tcss.rateLimit} req/s through Redis`,
    );
    // SERVER_PORT when free, any free port otherwise.
    server = await startServer(cfg, logger).catch(() =>
      startServer({ ...cfg, server: { ...cfg.server, port: 0 } }, logger),
    );
    say(`dashboard: ${server.url}/dashboard  (user ${cfg.server.user}, password ${password})`);

    const { jobIds } = await producer.enqueueMany(sampleRescans(opts.jobs));
    say(
      `enqueued ${opts.jobs} rescans as ${jobIds.length} jobs (requests over ${cfg.tcss.maxAssetsPerCall} assets are split)`,
    );

    const started = Date.now();
    await showProgress(jobIds.length, () => queueStatus(producer.queue, redis), sim, out);
    const seconds = (Date.now() - started) / 1000;
    const { counts } = await queueStatus(producer.queue, redis);
    const summary = summarise(sim, jobIds.length, counts, await records.count(), seconds);
    printSummary(summary, cfg, say, !throwaway);
    if (opts.keepRunning) {
      say(`\nstill serving the dashboard at ${server.url}/dashboard: Ctrl-C to stop`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    return summary;
  } finally {
    await server?.close();
    await Promise.all(workers.map((w) => w.close()));
    await producer.close();
    redis.disconnect();
    await sim.close();
    if (throwaway) await throwaway.stop();
  }
}

/** Redis at REDIS_URL when it answers; else a throwaway redis-server (when one is installed). */
async function demoRedis(
  configured: string,
  say: (s: string) => void,
): Promise<{ redisUrl: string; throwaway?: RedisServerHandle }> {
  if (await redisAnswers(configured)) {
    say(`Redis: ${configured}`);
    return { redisUrl: configured };
  }
  try {
    redisServerBinary();
  } catch (err) {
    throw new Error(`nothing answers at REDIS_URL=${configured}, and ${errorMessage(err)}`, { cause: err });
  }
  const throwaway = await startRedisServer();
  say(
    `no Redis answered at ${configured}: started a throwaway redis-server at ${throwaway.url} (gone when the demo ends)`,
  );
  return { redisUrl: throwaway.url, throwaway };
}

/** A progress bar (one line redrawn on a terminal, a line per change otherwise) until every job is done. */
async function showProgress(
  total: number,
  status: () => ReturnType<typeof queueStatus>,
  sim: Simulator,
  out: NodeJS.WritableStream,
): Promise<void> {
  const started = Date.now();
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  let last = '';
  for (;;) {
    const { counts } = await status();
    const done = counts.completed + counts.failed;
    const line = `${progressBar(done, total)} ${done}/${total} jobs (failed ${counts.failed}), ${sim.stats().total} calls, ${((Date.now() - started) / 1000).toFixed(0)} s`;
    if (tty) out.write(`\r${line}`);
    else if (line !== last) out.write(line + '\n');
    last = line;
    if (done >= total) break;
    await new Promise((r) => setTimeout(r, tty ? 200 : 1000));
  }
  if (tty) out.write('\n');
}

function summarise(
  sim: Simulator,
  jobs: number,
  counts: { completed: number; failed: number },
  taskIdsRecorded: number,
  seconds: number,
): DemoSummary {
  const stats = sim.stats();
  const calls = sim.calls();
  const firstArrival = calls[0]?.arrivalMs ?? 0;
  const lastArrival = calls[calls.length - 1]?.arrivalMs ?? 0;
  const busy = (lastArrival - firstArrival) / 1000;
  return {
    jobs,
    completed: counts.completed,
    failed: counts.failed,
    calls: stats.total,
    taskIdsRecorded,
    throttled: stats.throttled,
    achievedRps: busy > 0 ? Math.round(((calls.length - 1) / busy) * 100) / 100 : 0,
    // Every arrival, refused ones included (the API counts those too), not only what it admitted.
    maxInAnyWindow: maxInWindow(
      calls.map((c) => c.arrivalMs),
      1000,
    ),
    seconds: Math.round(seconds * 10) / 10,
  };
}

function printSummary(summary: DemoSummary, cfg: Config, say: (s: string) => void, keptRedis: boolean): void {
  say('');
  say('summary');
  say(`  jobs                     ${summary.jobs}`);
  say(`  completed / failed       ${summary.completed} / ${summary.failed}`);
  say(`  API calls                ${summary.calls} (throttled: ${summary.throttled})`);
  say(`  TaskIds recorded         ${summary.taskIdsRecorded}`);
  say(`  achieved requests/s      ${summary.achievedRps} (limit ${cfg.tcss.rateLimit})`);
  say(`  most arrivals in any 1000 ms ${summary.maxInAnyWindow}`);
  say(`  time to drain            ${summary.seconds} s`);
  if (keptRedis) say(`\nsee the TaskIds: QUEUE_NAME=${cfg.queueName} npm run cli -- tasks`);
}

/** `[##########..........]` */
export function progressBar(done: number, total: number, width = 30): string {
  const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : width;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
