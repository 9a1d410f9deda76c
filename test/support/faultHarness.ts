/**
 * The stage of a fault scenario (test/faults/*.fault.ts): its own redis-server (so it can be restarted
 * or killed without touching anything else), its own simulator (so its own budget), a producer, and
 * worker processes (the built CLI) started and stopped by the scenario.
 *
 *   const env = await FaultEnv.start({ scenario: 'kill -9', sim: { latencyMs: 300 } });
 *   await env.enqueue(workload(300));
 *   env.startWorker(); env.startWorker();
 *   await env.waitForDrain();
 *   const report = await env.check({ ... });   // the invariant (faultInvariant.ts)
 *   await env.close();
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import IORedis, { type Redis } from 'ioredis';
import type { RescanJobData } from '../../src/job';
import { budgetId } from '../../src/budget';
import { RescanProducer } from '../../src/producer';
import { startRedisServer, type RedisServerHandle } from '../../src/redisServer';
import { countJobs, type JobCounts } from '../../src/status';
import {
  DEMO_SUB_ACCOUNT_UIN,
  SCAN_ACTION,
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator';
import {
  checkFaultInvariant,
  recordSummary,
  type AcceptedJob,
  type InvariantOptions,
  type InvariantReport,
} from './faultInvariant';
import { startWorkerProcess, type WorkerProcess } from './workerProcess';
import { sleep, waitFor } from './redis';

export interface FaultEnvOptions {
  /** Name used in the summary line and the queue name. */
  scenario: string;
  /** Redis append-only persistence (data survives a restart). Default false. */
  appendonly?: boolean;
  sim?: SimulatorOptions;
  /** Put on every job by the producer (TCSS_MAX_ATTEMPTS). Default 10. */
  maxAttempts?: number;
  /** Put on every job by the producer (TCSS_BACKOFF_MS). Default 100. */
  backoffMs?: number;
  /** Environment for every worker process (after the defaults). */
  workerEnv?: Record<string, string>;
}

/** Asset ids are unique across the whole scenario, so a call is matched to jobs by its assets alone. */
let nextAsset = 1;

export interface WorkloadOptions {
  /** Distinct check items (each with two asset types, so 2x groups for coalescing). Default 40. */
  policyItems?: number;
  /** First policy item id. Default 5000. */
  firstPolicyItem?: number;
}

/**
 * `n` rescan requests: policy items round-robin, half with ASSET_CONTAINER and half without an asset
 * type, one or two assets each (every asset id used once in the whole scenario). With 40 items (80
 * coalescing keys) and a backlog, calls cover about two jobs each, so the budget is what limits speed.
 */
export function workload(
  n: number,
  o: WorkloadOptions = {},
): { policyItemId: number; assetIds: number[]; assetType?: 'ASSET_CONTAINER' }[] {
  const items = o.policyItems ?? 40;
  const first = o.firstPolicyItem ?? 5000;
  return Array.from({ length: n }, (_, i) => {
    const assets = i % 3 === 0 ? [nextAsset++, nextAsset++] : [nextAsset++];
    return {
      policyItemId: first + (i % items),
      assetIds: assets,
      ...(Math.floor(i / items) % 2 === 0 ? { assetType: 'ASSET_CONTAINER' as const } : {}),
    };
  });
}

/**
 * The budget check's tolerance, as in test/timing/worker.test.ts: calls leave at least 51.25 ms apart by
 * Redis's clock, but on this 2-core machine a worker process (or the simulator, in the test process,
 * which stamps arrivals) can be descheduled for tens of ms, so one arrival in a window may land early.
 * The API refuses it (RequestLimitExceeded) and it is called again through the budget (README,
 * "Guarantees"); the summary line shows the real worst window.
 */
export const JITTER_ALLOWANCE = {
  extra: 1,
  why: 'send-to-arrival jitter on a loaded 2-core machine; the API refuses the extra call and it is called again',
};

/** Jobs per BullMQ state (src/status.ts). */
export type Counts = Omit<JobCounts, 'paused'>;

export class FaultEnv {
  readonly workers: WorkerProcess[] = [];
  readonly accepted: AcceptedJob[] = [];
  /** Wall-clock time the environment started (ms). */
  readonly startedAt = Date.now();
  producer: RescanProducer;

  private constructor(
    readonly o: FaultEnvOptions,
    readonly redisServer: RedisServerHandle,
    readonly redis: Redis,
    readonly sim: Simulator,
    readonly queueName: string,
  ) {
    this.producer = this.newProducer();
  }

  static async start(o: FaultEnvOptions): Promise<FaultEnv> {
    const redisServer = await startRedisServer({ appendonly: o.appendonly ?? false });
    const redis = new IORedis(redisServer.url, { maxRetriesPerRequest: null });
    const sim = await startSimulator({ port: 0, ...o.sim });
    const queueName = `fault-${o.scenario
      .replace(/[^A-Za-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40)}`;
    return new FaultEnv(o, redisServer, redis, sim, queueName);
  }

  get redisUrl(): string {
    return this.redisServer.url;
  }

  /** The Bottleneck key prefix of this scenario's budget (`b_<id>_*`), for checks after a Redis restart. */
  get budgetKey(): string {
    return budgetId(`uin:${DEMO_SUB_ACCOUNT_UIN}`, new URL(this.sim.url).host, SCAN_ACTION);
  }

  /** A new producer (after a Redis restart without persistence the old one's connection is fine, but a fresh one proves it). */
  newProducer(): RescanProducer {
    return new RescanProducer({
      redisUrl: this.redisServer.url,
      queueName: this.queueName,
      maxAttempts: this.o.maxAttempts ?? 10,
      backoffMs: this.o.backoffMs ?? 100,
    });
  }

  workerEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      REDIS_URL: this.redisServer.url,
      QUEUE_NAME: this.queueName,
      TCSS_ENDPOINT: this.sim.url,
      TCSS_TIMEOUT_MS: '5000',
      WORKER_CONCURRENCY: '64',
      TCSS_COALESCE: 'true',
      ...this.o.workerEnv,
      ...extra,
    };
  }

  startWorker(extra: Record<string, string> = {}): WorkerProcess {
    const w = startWorkerProcess(this.workerEnv(extra));
    this.workers.push(w);
    return w;
  }

  /** Enqueues through the producer (validated, split) and remembers the accepted jobs. */
  async enqueue(requests: unknown[], producer = this.producer): Promise<AcceptedJob[]> {
    const res = await producer.enqueueMany(requests);
    const jobs = res.jobIds.map((id, i) => ({ id, data: res.jobs[i] as RescanJobData, enqueuedAt: Date.now() }));
    this.accepted.push(...jobs);
    return jobs;
  }

  async counts(): Promise<Counts> {
    return countJobs(this.producer.queue);
  }

  /** Resolves when `n` jobs (default: every accepted one) are completed or failed; the time it took. */
  async waitForDrain(timeoutMs = 120_000, n = this.accepted.length): Promise<number> {
    const t0 = Date.now();
    let last: Counts | undefined;
    while (Date.now() - t0 < timeoutMs) {
      last = await this.counts().catch(() => last);
      if (last && last.completed + last.failed >= n) return Date.now() - t0;
      await sleep(200);
    }
    throw new Error(
      `${this.o.scenario}: not drained within ${timeoutMs} ms: ${JSON.stringify(last)} of ${n}\n${this.tail()}`,
    );
  }

  /** The last lines every worker printed (for failure messages). */
  tail(chars = 3000): string {
    return this.workers.map((w, i) => `--- worker ${i} (pid ${w.child.pid})\n${w.output().slice(-chars)}`).join('\n');
  }

  /** Arrival time (ms) of the first call answered with a TaskId after `sinceMs`, or undefined. */
  firstOkCallAfter(sinceMs: number): number | undefined {
    return this.sim.calls().find((c) => c.code === 'OK' && c.arrivalMs >= sinceMs)?.arrivalMs;
  }

  /** Runs the invariant over this environment, prints and records the summary line, returns the report. */
  async check(
    opts: Omit<InvariantOptions, 'scenario' | 'queue' | 'redis' | 'queueName' | 'sim' | 'accepted'> & {
      accepted?: AcceptedJob[];
    },
  ): Promise<InvariantReport> {
    const report = await checkFaultInvariant({
      windowAllowance: JITTER_ALLOWANCE,
      scenario: this.o.scenario,
      queue: this.producer.queue,
      redis: this.redis,
      queueName: this.queueName,
      sim: this.sim,
      accepted: this.accepted,
      ...opts,
    });
    recordSummary(report);
    return report;
  }

  /**
   * Where this scenario's logs go: `$FAULT_LOG_DIR/<queue>` (default `artifacts/fault-logs`, emptied by
   * the suite's global setup). Written at close, pass or fail, so a failed scenario leaves its evidence;
   * .ci/run prints the folder when the suite fails.
   */
  get logDir(): string {
    return path.join(faultLogRoot(), `${this.queueName}-${this.startedAt}`);
  }

  /** Every worker's output, the simulator's calls and stats, and the queue's counts, into `logDir`. */
  async saveLogs(): Promise<string> {
    const dir = this.logDir;
    mkdirSync(dir, { recursive: true });
    this.workers.forEach((w, i) => writeFileSync(path.join(dir, `worker-${i}.log`), w.output()));
    writeFileSync(
      path.join(dir, 'simulator-calls.jsonl'),
      this.sim
        .calls()
        .map((c) => JSON.stringify(c))
        .join('\n') + '\n',
    );
    writeFileSync(path.join(dir, 'simulator-stats.json'), JSON.stringify(this.sim.stats(), null, 2));
    const counts = await this.counts().catch((e: unknown) => ({ error: String(e) }));
    writeFileSync(
      path.join(dir, 'queue.json'),
      JSON.stringify(
        { scenario: this.o.scenario, queue: this.queueName, startedAt: new Date(this.startedAt).toISOString(), counts },
        null,
        2,
      ),
    );
    return dir;
  }

  async close(): Promise<void> {
    await this.saveLogs().catch((e: unknown) =>
      process.stderr.write(`fault harness: could not save logs: ${String(e)}\n`),
    );
    await Promise.all(this.workers.map((w) => w.stop('SIGKILL')));
    await this.producer.close().catch(() => undefined);
    this.redis.disconnect();
    await this.sim.close();
    await this.redisServer.stop(true);
  }
}

export { sleep };

/** The folder that holds every scenario's logs (FAULT_LOG_DIR, default artifacts/fault-logs). */
export function faultLogRoot(): string {
  return process.env.FAULT_LOG_DIR ?? path.join(__dirname, '..', '..', 'artifacts', 'fault-logs');
}

/** Polls until `check` is truthy; throws with `what` after `timeoutMs` (waitFor, arguments in this order). */
export function until<T>(
  check: () => Promise<T> | T,
  timeoutMs: number,
  what: string,
  stepMs = 100,
): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  return waitFor(check, timeoutMs, stepMs, what);
}
