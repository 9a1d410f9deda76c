/**
 * The processor: job -> validate -> already recorded? -> group (coalescer) -> shared budget -> call
 * -> record for every job of the group.
 *
 * What happens to each answer is decided by the error table (tcss/errorTable.ts):
 *   throttle -> cut the cluster's rate and call again through the budget (attempts are not used up)
 *   retry    -> throw; BullMQ retries with exponential backoff and jitter up to the job's attempts
 *   pause    -> this worker stops taking jobs; the job goes back to waiting, untouched
 *   fail     -> UnrecoverableError: the job fails now, with the code, message and RequestId
 * A job whose data breaks the contract fails at once, alone, with every problem listed.
 */
import { randomUUID } from 'node:crypto';
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job, type MinimalJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { BACKOFF_TYPE, backoffDelay } from './backoff';
import { requireCredentials, type Config } from './config';
import { JOB_NAME, ValidationError, parseRescanJobData, type RescanJobData, type RescanResult } from './job';
import { budgetId, SharedBudget } from './limiter';
import { CallMetrics } from './callMetrics';
import { Coalescer, type Group } from './coalescer';
import { keys, PAUSE_REFRESH_MS, type JobRef, type PauseInfo } from './keys';
import type { Logger } from './logger';
import { RecordStore } from './records';
import { bullConnection, createRedis, describeRedis, redisConnectionWarnings, type BullConnection } from './redisConnection';
import { checkRedisSettings, logRedisSettings } from './redisSettings';
import { createTcssClient, SCAN_ACTION, TcssApiError, type ScanOk, type TcssClient } from './tcss/client';

/** What a job brings to its group. */
interface GroupPayload {
  ref: JobRef;
  data: RescanJobData;
}

/** Jobs merge only with jobs for the same check item and asset type. */
function groupKey(data: RescanJobData): string {
  return `${data.policyItemId}|${data.assetType ?? ''}`;
}

/** Thrown to every member of a group when the worker paused for credentials: each job goes back. */
class PausedSignal extends Error {
  override readonly name = 'PausedSignal';
}

export interface RescanWorkerOptions {
  config: Config;
  logger: Logger;
  /** Overrides for tests and benchmarks. */
  concurrency?: number;
}

export class RescanWorker {
  readonly id = randomUUID();
  private pauseInfo: PauseInfo | undefined;
  private pauseTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  /** The queue's connection (a Cluster instance we own on a cluster). */
  private bull: BullConnection | undefined;
  private readonly metrics: CallMetrics;
  private readonly coalescer: Coalescer<GroupPayload, RescanResult>;
  /** Rejects with PausedSignal when the worker pauses: groups still waiting for the budget leave at once. */
  private readonly pauseGate: Promise<never>;
  private closeGate: (signal: PausedSignal) => void = () => undefined;

  private constructor(
    private readonly cfg: Config,
    private readonly log: Logger,
    private readonly redis: Redis,
    private readonly records: RecordStore,
    private readonly budget: SharedBudget,
    private readonly client: TcssClient,
    readonly worker: Worker<unknown, RescanResult>,
  ) {
    this.metrics = new CallMetrics(redis, cfg.queueName, log);
    this.pauseGate = new Promise<never>((_, reject) => (this.closeGate = reject));
    this.pauseGate.catch(() => undefined);
    this.coalescer = new Coalescer({
      enabled: cfg.tcss.coalesce,
      windowMs: cfg.tcss.coalesceWindowMs,
      maxAssets: cfg.tcss.maxAssetsPerCall,
      run: (group) => this.runGroup(group),
    });
  }

  static async start(opts: RescanWorkerOptions): Promise<RescanWorker> {
    const { config: cfg, logger } = opts;
    const credentials = requireCredentials(cfg.tcss);
    const redis = createRedis(cfg.redis, { maxRetriesPerRequest: null });
    const bull = bullConnection(cfg.redis, { maxRetriesPerRequest: null });
    const records = new RecordStore(redis, { queueName: cfg.queueName, maxLen: cfg.recordsMaxLen, ttlSeconds: cfg.recordTtlSeconds });
    const budget = await SharedBudget.create({
      redisUrl: cfg.redisUrl,
      redis: cfg.redis,
      id: budgetId(credentials.secretId, cfg.tcss.endpoint.host, SCAN_ACTION),
      rateLimit: cfg.tcss.rateLimit,
      marginMs: cfg.tcss.pacingMarginMs,
      windowGuardMs: cfg.tcss.windowGuardMs,
      maxInFlight: cfg.tcss.maxInFlight,
      adapt: cfg.tcss.adaptiveRate,
      logger,
    });
    const client = createTcssClient(cfg.tcss);
    let self: RescanWorker | undefined;
    const worker = new Worker<unknown, RescanResult>(cfg.queueName, (job, token) => self!.process(job, token), {
      connection: bull.connection,
      prefix: bull.prefix,
      concurrency: opts.concurrency ?? cfg.workerConcurrency,
      autorun: false,
      // A crashed worker's jobs come back after the lock expires; re-running them is safe (records).
      lockDuration: 15_000,
      stalledInterval: 15_000,
      maxStalledCount: 5,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string, _err?: Error, job?: MinimalJob) => {
          if (type !== BACKOFF_TYPE) return -1;
          const base = Number((job?.opts.backoff as { delay?: number } | undefined)?.delay) || cfg.tcss.backoffMs;
          return backoffDelay(attemptsMade, base);
        },
      },
    });
    self = new RescanWorker(cfg, logger, redis, records, budget, client, worker);
    self.bull = bull;
    worker.on('error', (err) => logger.error({ err }, 'worker error'));
    worker.on('failed', (job, err) => {
      if (!job || err instanceof WaitingError || err instanceof DelayedError) return;
      const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      logger[final ? 'error' : 'warn'](
        { jobId: job.id, policyItemId: policyItemOf(job.data), attempt: job.attemptsMade, final, reason: err.message },
        final ? 'job failed' : 'job will be retried',
      );
    });
    void worker.run();
    await worker.waitUntilReady();
    for (const w of redisConnectionWarnings(cfg.redis)) logger.warn({ redis: describeRedis(cfg.redis) }, w);
    logRedisSettings(await checkRedisSettings(redis), logger);
    logger.info(
      { queue: cfg.queueName, redis: describeRedis(cfg.redis), workerId: self.id, concurrency: opts.concurrency ?? cfg.workerConcurrency, rateLimit: cfg.tcss.rateLimit, endpoint: cfg.tcss.endpoint.origin, demoCredentials: cfg.tcss.usingDemoCredentials },
      'worker started',
    );
    return self;
  }

  /** Why this worker stopped taking jobs, if it did. */
  pausedBecause(): PauseInfo | undefined {
    return this.pauseInfo;
  }

  /** The shared budget's rate as this process last saw it. */
  currentRate(): number {
    return this.budget.currentRate();
  }

  private async process(job: Job<unknown, RescanResult>, token?: string): Promise<RescanResult> {
    const jobId = job.id ?? '';
    if (job.name !== JOB_NAME) {
      throw new UnrecoverableError(`invalid job: name ${JSON.stringify(job.name)} is not ${JSON.stringify(JOB_NAME)}`);
    }
    let data: RescanJobData;
    try {
      data = parseRescanJobData(job.data);
    } catch (err) {
      if (err instanceof ValidationError) {
        this.log.warn({ jobId, problems: err.problems }, 'invalid job refused');
        throw new UnrecoverableError(`invalid job: ${err.message}`);
      }
      throw err;
    }
    const log = this.log.child({ jobId, policyItemId: data.policyItemId });

    const ref = { id: jobId, timestamp: job.timestamp };
    const existing = await this.records.forJob(ref);
    if (existing) {
      log.info({ taskId: existing.taskId, requestId: existing.requestId }, 'already recorded: not calling again');
      return { ...existing, fromRecord: true };
    }

    if (this.pauseInfo) return this.putBack(job, token);
    let record: RescanResult;
    try {
      record = await this.coalescer.submit(groupKey(data), { assetIds: data.assetIds, payload: { ref, data } });
    } catch (err) {
      if (err instanceof PausedSignal) return this.putBack(job, token);
      if (!(err instanceof TcssApiError)) throw err;
      const fields = { code: err.code, requestId: err.requestId, attempt: job.attemptsMade + 1 };
      const reason = `${err.message}${err.requestId ? ` (RequestId ${err.requestId})` : ''}`;
      if (err.action === 'fail') {
        log.error(fields, 'permanent error: job failed');
        throw new UnrecoverableError(reason);
      }
      // 'retry' (and anything unexpected): BullMQ retries with backoff while attempts remain.
      if (job.attemptsMade + 1 < (job.opts.attempts ?? 1)) this.metrics.retry();
      log.warn(fields, 'transient error');
      throw new Error(reason);
    }
    log.info(
      { taskId: record.taskId, requestId: record.requestId, assets: data.assetIds.length, callAssets: record.assetIds.length, mergedJobs: record.jobIds.length, attempt: job.attemptsMade + 1 },
      'rescan started: TaskId recorded',
    );
    return jobView(record, ref, data);
  }

  /**
   * One call for a group of jobs (see coalescer.ts): through the budget, called again when throttled,
   * recorded for every job it covered. Errors other than throttles go to each job (retry or fail).
   */
  private async runGroup(group: Group<GroupPayload>): Promise<RescanResult> {
    const first = group.members[0]!.payload.data;
    const log = this.log.child({ policyItemId: first.policyItemId });
    for (let throttles = 0; ; throttles++) {
      let outcome: ScanOk | 'paused';
      try {
        const call = this.budget.schedule(async () => {
          group.closed = true; // the call leaves with the members it has
          // Groups queued for the budget when the worker paused must not call with bad credentials.
          if (this.pauseInfo) return 'paused' as const;
          return this.client.scan({ policyItemId: first.policyItemId, assetIds: group.assetIds, ...(first.assetType ? { assetType: first.assetType } : {}) });
        });
        // On a pause, the group's jobs go back at once rather than when the budget reaches them.
        outcome = await Promise.race([call, this.pauseGate]);
      } catch (err) {
        if (!(err instanceof TcssApiError)) throw err;
        this.metrics.call(err.code, err.latencyMs);
        const fields = { code: err.code, requestId: err.requestId, latencyMs: Math.round(err.latencyMs), assets: group.assetIds.length, jobIds: group.members.map((m) => m.payload.ref.id) };
        if (err.action === 'throttle') {
          const rate = await this.budget.throttled();
          log.warn({ ...fields, throttles: throttles + 1, rate: Math.round(rate * 100) / 100 }, 'throttled by the API: calling again through the budget');
          continue;
        }
        if (err.action === 'pause') {
          await this.pauseForCredentials(err);
          throw new PausedSignal();
        }
        log.warn(fields, 'call failed');
        throw err;
      }
      if (outcome === 'paused') throw new PausedSignal();
      this.metrics.call('OK', outcome.latencyMs);
      const record: RescanResult = {
        taskId: outcome.taskId,
        requestId: outcome.requestId,
        policyItemId: first.policyItemId,
        assetIds: group.assetIds,
        ...(first.assetType !== undefined ? { assetType: first.assetType } : {}),
        jobIds: group.members.map((m) => m.payload.ref.id),
        calledAt: new Date().toISOString(),
      };
      this.budget.succeeded();
      const byRef = new Map(group.members.map((m) => [m.payload.ref, m.payload.data]));
      await this.saveWithRetries(record, [...byRef.keys()], (ref) => jobView(record, ref, byRef.get(ref)!), log);
      log.debug({ taskId: record.taskId, requestId: record.requestId, assets: record.assetIds.length, jobIds: record.jobIds, latencyMs: Math.round(outcome.latencyMs) }, 'call recorded');
      return record;
    }
  }

  /** The API answered: the record must be written, or the call would be repeated. Redis blips are retried. */
  private async saveWithRetries(record: RescanResult, jobs: JobRef[], forJob: (ref: JobRef) => RescanResult, log: Logger): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await this.records.save(record, jobs, forJob);
        return;
      } catch (err) {
        if (i >= 8) throw err;
        log.warn({ err, taskId: record.taskId, requestId: record.requestId }, 'could not record the TaskId yet: retrying');
        await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** i)));
      }
    }
  }

  private async pauseForCredentials(err: TcssApiError): Promise<void> {
    if (this.pauseInfo) return;
    const now = new Date().toISOString();
    this.pauseInfo = { code: err.code, message: err.message, ...(err.requestId ? { requestId: err.requestId } : {}), at: now, seenAt: now };
    this.log.fatal(
      { code: err.code, requestId: err.requestId, workerId: this.id, apiMessage: err.message },
      err.code === 'AuthFailure.SignatureExpire'
        ? "CLOCK OFF: the API refused the request's timestamp (more than 5 minutes from its clock): this worker stops taking jobs; the backlog waits. Fix this machine's clock (NTP) and restart the worker."
        : 'CREDENTIALS REFUSED by the API: this worker stops taking jobs; the backlog waits. Fix TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY and restart the worker.',
    );
    // Say so in Redis for `status` and /readyz, and keep saying it while this process lives.
    const publish = () => {
      const info = { ...this.pauseInfo!, seenAt: new Date().toISOString() };
      return this.redis.hset(keys.pausedWorkers(this.cfg.queueName), this.id, JSON.stringify(info)).catch(() => undefined);
    };
    this.closeGate(new PausedSignal());
    await publish();
    this.pauseTimer = setInterval(() => void publish(), PAUSE_REFRESH_MS);
    this.pauseTimer.unref();
    // Do not wait for active jobs: this job is one of them.
    void this.worker.pause(true);
  }

  /** Puts the job back in the queue untouched (no attempt used) and tells BullMQ it moved. */
  private async putBack(job: Job, token?: string): Promise<never> {
    await job.moveToWait(token);
    throw new WaitingError();
  }

  /** Stops taking jobs, lets calls in flight finish and be recorded, then closes every connection. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.pauseTimer) clearInterval(this.pauseTimer);
      await this.worker.close();
      await this.bull?.close();
      await this.budget.close();
      this.client.close();
      await this.redis.hdel(keys.pausedWorkers(this.cfg.queueName), this.id).catch(() => undefined);
      await this.redis.quit().catch(() => undefined);
      this.log.info({ workerId: this.id }, 'worker stopped');
    })();
    return this.closing;
  }
}

/**
 * A job's view of the call that covered it: the call's TaskId and RequestId, the job's own assets and
 * id, and how many jobs and assets the call covered (the full lists are in the stream record). Kept
 * small on purpose: with coalescing, a call's lists copied into each of its jobs would grow with the
 * square of the call's size.
 */
function jobView(call: RescanResult, ref: JobRef, data: RescanJobData): RescanResult {
  return { ...call, assetIds: data.assetIds, jobIds: [ref.id], callJobs: call.jobIds.length, callAssets: call.assetIds.length };
}

function policyItemOf(data: unknown): unknown {
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>).policyItemId : undefined;
}
