/**
 * The worker: its lifecycle (start, pause, close) and the processor: job -> validate -> already
 * recorded? -> group (coalescer) -> shared budget -> call -> record for every job of the group
 * (groupCall.ts).
 *
 * What happens to each answer is decided by the error table (tcss/errorTable.ts):
 *   throttle -> cut the cluster's rate and call again through the budget (attempts are not used up)
 *   retry    -> throw; BullMQ retries with exponential backoff and jitter up to the job's attempts
 *   pause    -> this worker stops taking jobs; the job goes back to waiting, untouched (codes about
 *               the account or configuration, which would fail every job: see the table's scopes)
 *   fail     -> UnrecoverableError: the job fails now, with the code, message and RequestId
 * A merged call refused for a reason that may belong to one member (scope `job`) is bisected
 * (groupCall.ts). A job whose data breaks the contract (not JSON, too many assets for one call, ...)
 * fails at once, alone, with every problem listed, and never spends a call.
 */
import { randomUUID } from 'node:crypto';
import { DelayedError, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { SharedBudget } from '../budget';
import { requireCredentials, type Config } from '../config';
import {
  JOB_NAME,
  ValidationError,
  jobResult,
  parseRescanJobData,
  type CallRecord,
  type JobRef,
  type RescanJobData,
  type RescanJobResult,
} from '../job';
import { CallMetrics } from '../callMetrics';
import { Coalescer } from '../coalescer';
import { ContractWorker, UnreadableJobData } from '../contractWorker';
import { startHeartbeat, type Heartbeat } from '../heartbeat';
import type { Logger } from '../logger';
import { PauseRecord, type PauseInfo } from '../pause';
import type { RecordStore } from '../records';
import { errorMessage } from '../redact';
import {
  bullConnection,
  createRedis,
  describeRedis,
  redisConnectionWarnings,
  type BullConnection,
} from '../redisConnection';
import { FailFastConnection, oncePerOutage } from '../redisFailFast';
import { checkRedisSettings, logRedisSettings } from '../redisSettings';
import { createTcssClient, TcssApiError, type TcssClient } from '../tcss/client';
import { budgetIdFrom } from '../tcss/scanBudget';
import { recordStoreFrom } from '../wiring';
import { createCredentials } from '../tcss/credentials';
import { IdentityWatcher } from '../tcss/identity';
import { attemptsOf, bullWorkerOptions } from './bullOptions';
import { GroupCall, groupKey, type GroupOutcome, type GroupPayload } from './groupCall';
import { PausedSignal, WorkerPause } from './workerPause';

export interface RescanWorkerOptions {
  config: Config;
  logger: Logger;
  /** Overrides for tests and benchmarks. */
  concurrency?: number;
}

/** What start() opens before the worker exists. */
interface Parts {
  redis: Redis;
  records: RecordStore;
  budget: SharedBudget;
  client: TcssClient;
}

export class RescanWorker {
  readonly id = randomUUID();
  private closing: Promise<void> | undefined;
  private heartbeat: Heartbeat | undefined;
  /** The queue's connection (a Cluster instance we own on a cluster). */
  private bull: BullConnection | undefined;
  private readonly metrics: CallMetrics;
  private readonly coalescer: Coalescer<GroupPayload, GroupOutcome>;
  private readonly pause: WorkerPause;
  private readonly redis: Redis;
  private readonly records: RecordStore;
  /** Keyed by the caller's identity; replaced when the identity changes (see moveBudget). */
  private budget: SharedBudget;
  private readonly client: TcssClient;

  private constructor(
    private readonly cfg: Config,
    private readonly log: Logger,
    parts: Parts,
    readonly worker: ContractWorker<RescanJobResult>,
  ) {
    this.redis = parts.redis;
    this.records = parts.records;
    this.budget = parts.budget;
    this.client = parts.client;
    this.metrics = new CallMetrics(this.redis, cfg.queueName, log);
    // Do not wait for active jobs when pausing: the job that met the code is one of them.
    this.pause = new WorkerPause(
      new PauseRecord(this.redis, cfg.queueName, this.id),
      log,
      this.id,
      () => void this.worker.pause(true),
    );
    const call = new GroupCall({
      budget: () => this.budget,
      client: this.client,
      records: this.records,
      metrics: this.metrics,
      pause: this.pause,
      log,
    });
    this.coalescer = new Coalescer({
      enabled: cfg.tcss.coalesce,
      windowMs: cfg.tcss.coalesceWindowMs,
      maxAssets: cfg.tcss.maxAssetsPerCall,
      run: (group) => call.run(group),
    });
  }

  static async start(opts: RescanWorkerOptions): Promise<RescanWorker> {
    const { config: cfg, logger } = opts;
    // Keys from the environment must be there now; other sources (a role, a profile, CVM, TKE) are asked.
    if (cfg.tcss.credentialSource === 'env') requireCredentials(cfg.tcss);
    // Redis down, or refusing the login, at start: say so within PRODUCER_TIMEOUT_MS and start nothing,
    // rather than retrying forever. An outage after start is waited out (the connections reconnect).
    const probe = new FailFastConnection(cfg.redis, cfg.producerTimeoutMs);
    try {
      await probe.ready('the worker did not start');
    } finally {
      probe.close();
    }
    const credentials = createCredentials(cfg.tcss);
    // The budget and the processor are built before the worker that owns them: they reach it through this.
    const ref: { worker?: RescanWorker } = {};
    // One budget per (identity Tencent counts, endpoint host, action): see tcss/identity.ts.
    const openBudget = (identity: string) =>
      SharedBudget.create({
        redisUrl: cfg.redisUrl,
        redis: cfg.redis,
        id: budgetIdFrom(cfg, identity),
        rateLimit: cfg.tcss.rateLimit,
        marginMs: cfg.tcss.pacingMarginMs,
        windowGuardMs: cfg.tcss.windowGuardMs,
        maxInFlight: cfg.tcss.maxInFlight,
        adapt: cfg.tcss.adaptiveRate,
        logger,
      });
    const identity = await IdentityWatcher.start(cfg.tcss, credentials, logger, async (next) =>
      ref.worker?.moveBudget(await openBudget(next.key)),
    );
    const redis = createRedis(cfg.redis, { maxRetriesPerRequest: null });
    const bull = bullConnection(cfg.redis, { maxRetriesPerRequest: null });
    const redisLog = oncePerOutage(logger, 'worker: Redis connection error');
    redis.on('error', redisLog.error);
    redis.on('ready', redisLog.ready);
    const records = recordStoreFrom(cfg, redis);
    const budget = await openBudget(identity.identity.key);
    const client = createTcssClient(cfg.tcss, credentials);
    // Before the first slot: the connection open and the SDK's path run once, the budget's script
    // loaded, so that the first calls of a fresh process leave on time (tcss/warmUp.ts).
    if (cfg.tcss.warmUp) {
      const [warm] = await Promise.all([client.warmUp(), budget.warmUp()]);
      logger.debug(
        { warmUpMs: Math.round(warm.ms), status: warm.status, error: warm.error },
        'warmed up: connection open',
      );
    }
    const concurrency = opts.concurrency ?? cfg.workerConcurrency;
    const worker = new ContractWorker<RescanJobResult>(cfg.queueName, (job, token) => ref.worker!.process(job, token), {
      ...bullWorkerOptions(cfg, concurrency),
      connection: bull.connection,
      prefix: bull.prefix,
    });
    const self = new RescanWorker(cfg, logger, { redis, records, budget, client }, worker);
    ref.worker = self;
    self.bull = bull;
    await self.run();
    for (const w of redisConnectionWarnings(cfg.redis)) logger.warn({ redis: describeRedis(cfg.redis) }, w);
    logRedisSettings(await checkRedisSettings(redis), logger);
    logger.info(
      {
        queue: cfg.queueName,
        redis: describeRedis(cfg.redis),
        workerId: self.id,
        concurrency,
        rateLimit: cfg.tcss.rateLimit,
        endpoint: cfg.tcss.endpoint.origin,
        demoCredentials: cfg.tcss.usingDemoCredentials,
        credentialSource: cfg.tcss.credentialSource,
        budgetIdentity: identity.identity.key,
        budgetIdentitySource: identity.identity.source,
      },
      'worker started',
    );
    return self;
  }

  /** Starts the worker loop, with its event logs and liveness. */
  private async run(): Promise<void> {
    const { worker, log } = this;
    worker.on('error', (err) => log.error({ err }, 'worker error'));
    worker.on('failed', (job, err) => {
      if (!job || err instanceof WaitingError || err instanceof DelayedError) return;
      const final = err instanceof UnrecoverableError || job.attemptsMade >= attemptsOf(job);
      if (final) this.metrics.jobFailed();
      log[final ? 'error' : 'warn'](
        {
          jobId: job.id,
          policyItemId: policyItemOf(job.data),
          attempt: job.attemptsMade,
          final,
          reason: errorMessage(err),
        },
        final ? 'job failed' : 'job will be retried',
      );
    });
    void worker.run();
    await worker.waitUntilReady();
    // Liveness: beats while the worker loop runs (draining included), stops when it is closed.
    if (this.cfg.heartbeatFile) this.heartbeat = startHeartbeat(this.cfg.heartbeatFile, () => worker.isRunning(), log);
  }

  /** Why this worker stopped taking jobs, if it did. */
  pausedBecause(): PauseInfo | undefined {
    return this.pause.reason;
  }

  /** The caller identity changed: later calls go through its budget; the old one drains and closes. */
  private async moveBudget(next: SharedBudget): Promise<void> {
    const old = this.budget;
    this.budget = next;
    if (this.closing) await next.close();
    await old.close();
  }

  /** The shared budget's rate as this process last saw it. */
  currentRate(): number {
    return this.budget.currentRate();
  }

  private async process(job: Job<unknown, RescanJobResult>, token?: string): Promise<RescanJobResult> {
    const data = this.validJobData(job);
    const log = this.log.child({ jobId: job.id ?? '', policyItemId: data.policyItemId });
    const ref = { id: job.id ?? '', timestamp: job.timestamp };
    const existing = await this.records.forJob(ref);
    if (existing) {
      log.info({ taskId: existing.taskId, requestId: existing.requestId }, 'already recorded: not calling again');
      return { ...existing, fromRecord: true };
    }

    if (this.pause.reason) return this.putBack(job, token);
    let record: CallRecord;
    try {
      record = await this.callFor(ref, data);
    } catch (err) {
      if (err instanceof PausedSignal) return this.putBack(job, token);
      throw this.jobError(err, job, log);
    }
    log.info(
      {
        taskId: record.taskId,
        requestId: record.requestId,
        assets: data.assetIds.length,
        callAssets: record.assetIds.length,
        mergedJobs: record.jobIds.length,
        attempt: job.attemptsMade + 1,
      },
      'rescan started: TaskId recorded',
    );
    return jobResult(record, { id: ref.id, assetIds: data.assetIds });
  }

  /** The job's data, or UnrecoverableError naming every problem (the contract, job.ts; never a call). */
  private validJobData(job: Job<unknown, RescanJobResult>): RescanJobData {
    const jobId = job.id ?? '';
    if (job.name !== JOB_NAME) {
      throw withoutStack(
        new UnrecoverableError(`invalid job: name ${JSON.stringify(job.name)} is not ${JSON.stringify(JOB_NAME)}`),
      );
    }
    if (job.data instanceof UnreadableJobData) {
      this.log.warn({ jobId, reason: job.data.reason }, 'invalid job refused: data is not JSON');
      throw withoutStack(
        new UnrecoverableError(`invalid job: data is not JSON (${job.data.reason}): ${JSON.stringify(job.data.start)}`),
      );
    }
    try {
      const data = parseRescanJobData(job.data);
      const max = this.cfg.tcss.maxAssetsPerCall;
      if (data.assetIds.length > max)
        throw new ValidationError([
          `assetIds has ${data.assetIds.length} asset ids, more than one call takes (TCSS_MAX_ASSETS_PER_CALL ${max}): split it into jobs of at most ${max}`,
        ]);
      return data;
    } catch (err) {
      if (err instanceof ValidationError) {
        this.log.warn({ jobId, problems: err.problems }, 'invalid job refused');
        throw withoutStack(new UnrecoverableError(`invalid job: ${err.message}`));
      }
      throw err;
    }
  }

  /** The record of the call that covered this job: its group's outcome for it. */
  private async callFor(ref: JobRef, data: RescanJobData): Promise<CallRecord> {
    const outcome = await this.coalescer.submit(groupKey(data), { assetIds: data.assetIds, payload: { ref, data } });
    const mine = outcome.get(ref);
    if (mine === undefined) throw new Error('internal: no outcome for this job in its group');
    if (mine instanceof Error) throw mine;
    return mine;
  }

  /** What the job fails with for `err`: now (the table's `fail`), or for BullMQ to retry. */
  private jobError(err: unknown, job: Job, log: Logger): unknown {
    if (!(err instanceof TcssApiError)) return err;
    const fields = { code: err.code, requestId: err.requestId, attempt: job.attemptsMade + 1 };
    const reason = `${err.message}${err.requestId ? ` (RequestId ${err.requestId})` : ''}`;
    if (err.action === 'fail') {
      log.error(fields, 'permanent error: job failed');
      return withoutStack(new UnrecoverableError(reason));
    }
    // 'retry' (and anything unexpected): BullMQ retries with backoff while attempts remain.
    if (job.attemptsMade + 1 < attemptsOf(job)) this.metrics.retry();
    log.warn(fields, 'transient error');
    return withoutStack(new Error(reason));
  }

  /** Puts the job back in the queue untouched (no attempt used) and tells BullMQ it moved. */
  private async putBack(job: Job, token?: string): Promise<never> {
    await job.moveToWait(token);
    throw new WaitingError();
  }

  /** Stops taking jobs, lets calls in flight finish and be recorded, then closes every connection. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.worker.close();
      await this.bull?.close();
      await this.budget.close();
      this.client.close();
      await this.pause.clear();
      await this.redis.quit().catch(() => undefined);
      this.heartbeat?.stop();
      this.log.info({ workerId: this.id }, 'worker stopped');
    })();
    return this.closing;
  }
}

/**
 * An error whose whole story is its message (an API answer: code, message, RequestId; or a contract
 * violation): BullMQ stores `err.stack` with the failed job only when it is set, and a stack through
 * our own code would only hide the answer on the dashboard.
 */
function withoutStack<E extends Error>(err: E): E {
  err.stack = '';
  return err;
}

function policyItemOf(data: unknown): unknown {
  return typeof data === 'object' && data !== null ? (data as Record<string, unknown>).policyItemId : undefined;
}
