/**
 * The processor: job -> validate -> already recorded? -> group (coalescer) -> shared budget -> call
 * -> record for every job of the group.
 *
 * What happens to each answer is decided by the error table (tcss/errorTable.ts):
 *   throttle -> cut the cluster's rate and call again through the budget (attempts are not used up)
 *   retry    -> throw; BullMQ retries with exponential backoff and jitter up to the job's attempts
 *   pause    -> this worker stops taking jobs; the job goes back to waiting, untouched (codes about
 *               the account or configuration, which would fail every job: see the table's scopes)
 *   fail     -> UnrecoverableError: the job fails now, with the code, message and RequestId
 * A merged call refused for a reason that may belong to one member (scope `job`) is split in halves
 * and called again (bisect), so that only the jobs at fault fail: one bad job among n costs about
 * 2*log2(n) more calls. A job whose data breaks the contract (not JSON, too many assets for one call,
 * ...) fails at once, alone, with every problem listed, and never spends a call.
 */
import { randomUUID } from 'node:crypto';
import { DelayedError, UnrecoverableError, WaitingError, type Job, type MinimalJob } from 'bullmq';
import type { Redis } from 'ioredis';
import { BACKOFF_TYPE, backoffDelay, budgetId, SharedBudget } from './budget';
import { requireCredentials, type Config } from './config';
import { JOB_NAME, ValidationError, parseRescanJobData, type RescanJobData, type RescanResult } from './job';
import { CallMetrics } from './callMetrics';
import { Coalescer, type Group, type Member } from './coalescer';
import { ContractWorker, UnreadableJobData } from './contractWorker';
import { startHeartbeat, type Heartbeat } from './heartbeat';
import { keys, PAUSE_REFRESH_MS, type JobRef, type PauseInfo } from './keys';
import type { Logger } from './logger';
import { RecordStore } from './records';
import { bullConnection, createRedis, describeRedis, redisConnectionWarnings, type BullConnection } from './redisConnection';
import { FailFastConnection, oncePerOutage } from './redisFailFast';
import { checkRedisSettings, logRedisSettings } from './redisSettings';
import { createTcssClient, SCAN_ACTION, TcssApiError, type ScanOk, type TcssClient } from './tcss/client';
import { createCredentials } from './tcss/credentials';
import { IdentityWatcher } from './tcss/identity';

/**
 * Locks last LOCK_DURATION_MS and are renewed about every LOCK_RENEW_MS, so a live worker loses a job
 * only if its event loop or Redis stalls for about 5 s (with a 4 s lock renewed every 2 s, the bench saw
 * jobs re-run at a load average of 25 on 2 cores); a killed worker's jobs are back in the queue within
 * LOCK_DURATION_MS + STALLED_INTERVAL_MS = 7.5 s (BullMQ: 30 s + 30 s by default; 15 + 15 here before).
 */
export const LOCK_DURATION_MS = 6_000;
export const LOCK_RENEW_MS = 1_000;
export const STALLED_INTERVAL_MS = 1_500;

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

/** What a group's call(s) gave each member: its call's record, or the error for that member. */
type GroupOutcome = Map<JobRef, RescanResult | Error>;

/** What to say when the workers pause, by code family (the table's `account` scope). */
function pauseAdvice(code: string): string {
  if (code === 'AuthFailure.SignatureExpire') {
    return "CLOCK OFF: the API refused the request's timestamp (more than 5 minutes from its clock): this worker stops taking jobs; the backlog waits. Fix this machine's clock (NTP) and restart the worker.";
  }
  if (/^(AuthFailure|UnauthorizedOperation|IpInBlacklist|IpNotInWhitelist)(\.|$)/.test(code)) {
    return 'CREDENTIALS REFUSED by the API: this worker stops taking jobs; the backlog waits. Fix TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY and restart the worker.';
  }
  if (/^(InvalidAction|NoSuchVersion|NoSuchProduct|ActionOffline|UnsupportedRegion|UnsupportedProtocol)(\.|$)/.test(code)) {
    return 'CONFIGURATION REFUSED by the API (endpoint, version or region): every job would fail, so this worker stops taking jobs; the backlog waits. Check TCSS_ENDPOINT and TCSS_REGION and restart the worker.';
  }
  return 'ACCOUNT REFUSED by the API (service not bought or not authorised, licences used up): every job would fail, so this worker stops taking jobs; the backlog waits. Fix the account in the TCSS console and restart the worker.';
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
  private heartbeat: Heartbeat | undefined;
  /** The queue's connection (a Cluster instance we own on a cluster). */
  private bull: BullConnection | undefined;
  private readonly metrics: CallMetrics;
  private readonly coalescer: Coalescer<GroupPayload, GroupOutcome>;
  /** Rejects with PausedSignal when the worker pauses: groups still waiting for the budget leave at once. */
  private readonly pauseGate: Promise<never>;
  private closeGate: (signal: PausedSignal) => void = () => undefined;

  private constructor(
    private readonly cfg: Config,
    private readonly log: Logger,
    private readonly redis: Redis,
    private readonly records: RecordStore,
    /** Keyed by the caller's identity; replaced when the identity changes (see moveBudget). */
    private budget: SharedBudget,
    private readonly client: TcssClient,
    readonly worker: ContractWorker<RescanResult>,
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
    let self: RescanWorker | undefined;
    // One budget per (identity Tencent counts, endpoint host, action): see tcss/identity.ts.
    const openBudget = (identity: string) =>
      SharedBudget.create({
        redisUrl: cfg.redisUrl,
        redis: cfg.redis,
        id: budgetId(identity, cfg.tcss.endpoint.host, SCAN_ACTION),
        rateLimit: cfg.tcss.rateLimit,
        marginMs: cfg.tcss.pacingMarginMs,
        windowGuardMs: cfg.tcss.windowGuardMs,
        maxInFlight: cfg.tcss.maxInFlight,
        adapt: cfg.tcss.adaptiveRate,
        logger,
      });
    const identity = await IdentityWatcher.start(cfg.tcss, credentials, logger, async (next) => self?.moveBudget(await openBudget(next.key)));
    const redis = createRedis(cfg.redis, { maxRetriesPerRequest: null });
    const bull = bullConnection(cfg.redis, { maxRetriesPerRequest: null });
    const redisLog = oncePerOutage(logger, 'worker: Redis connection error');
    redis.on('error', redisLog.error);
    redis.on('ready', redisLog.ready);
    const records = new RecordStore(redis, { queueName: cfg.queueName, maxLen: cfg.recordsMaxLen, ttlSeconds: cfg.recordTtlSeconds });
    const budget = await openBudget(identity.identity.key);
    const client = createTcssClient(cfg.tcss, credentials);
    // Before the first slot: the connection open and the SDK's path run once, the budget's script
    // loaded, so that the first calls of a fresh process leave on time (tcss/warmUp.ts).
    if (cfg.tcss.warmUp) {
      const [warm] = await Promise.all([client.warmUp(), budget.warmUp()]);
      logger.debug({ warmUpMs: Math.round(warm.ms), status: warm.status, error: warm.error }, 'warmed up: connection open');
    }
    const worker = new ContractWorker<RescanResult>(cfg.queueName, (job, token) => self!.process(job, token), {
      connection: bull.connection,
      prefix: bull.prefix,
      concurrency: opts.concurrency ?? cfg.workerConcurrency,
      autorun: false,
      // A crashed worker's jobs come back after its locks expire and a stalled check sees them (at most
      // lockDuration + stalledInterval, docs/budget.md); re-running them is safe (records).
      lockDuration: LOCK_DURATION_MS,
      lockRenewTime: LOCK_RENEW_MS,
      stalledInterval: STALLED_INTERVAL_MS,
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
      if (final) self?.metrics.jobFailed();
      logger[final ? 'error' : 'warn'](
        { jobId: job.id, policyItemId: policyItemOf(job.data), attempt: job.attemptsMade, final, reason: err.message },
        final ? 'job failed' : 'job will be retried',
      );
    });
    void worker.run();
    await worker.waitUntilReady();
    // Liveness: beats while the worker loop runs (draining included), stops when it is closed.
    if (cfg.heartbeatFile) self.heartbeat = startHeartbeat(cfg.heartbeatFile, () => worker.isRunning(), logger);
    for (const w of redisConnectionWarnings(cfg.redis)) logger.warn({ redis: describeRedis(cfg.redis) }, w);
    logRedisSettings(await checkRedisSettings(redis), logger);
    logger.info(
      { queue: cfg.queueName, redis: describeRedis(cfg.redis), workerId: self.id, concurrency: opts.concurrency ?? cfg.workerConcurrency, rateLimit: cfg.tcss.rateLimit, endpoint: cfg.tcss.endpoint.origin, demoCredentials: cfg.tcss.usingDemoCredentials, credentialSource: cfg.tcss.credentialSource, budgetIdentity: identity.identity.key, budgetIdentitySource: identity.identity.source },
      'worker started',
    );
    return self;
  }

  /** Why this worker stopped taking jobs, if it did. */
  pausedBecause(): PauseInfo | undefined {
    return this.pauseInfo;
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

  private async process(job: Job<unknown, RescanResult>, token?: string): Promise<RescanResult> {
    const jobId = job.id ?? '';
    if (job.name !== JOB_NAME) {
      throw withoutStack(new UnrecoverableError(`invalid job: name ${JSON.stringify(job.name)} is not ${JSON.stringify(JOB_NAME)}`));
    }
    if (job.data instanceof UnreadableJobData) {
      this.log.warn({ jobId, reason: job.data.reason }, 'invalid job refused: data is not JSON');
      throw withoutStack(new UnrecoverableError(`invalid job: data is not JSON (${job.data.reason}): ${JSON.stringify(job.data.start)}`));
    }
    let data: RescanJobData;
    try {
      data = parseRescanJobData(job.data);
      const max = this.cfg.tcss.maxAssetsPerCall;
      if (data.assetIds.length > max) throw new ValidationError([`assetIds has ${data.assetIds.length} asset ids, more than one call takes (TCSS_MAX_ASSETS_PER_CALL ${max}): split it into jobs of at most ${max}`]);
    } catch (err) {
      if (err instanceof ValidationError) {
        this.log.warn({ jobId, problems: err.problems }, 'invalid job refused');
        throw withoutStack(new UnrecoverableError(`invalid job: ${err.message}`));
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
      const outcome = await this.coalescer.submit(groupKey(data), { assetIds: data.assetIds, payload: { ref, data } });
      const mine = outcome.get(ref);
      if (mine === undefined) throw new Error('internal: no outcome for this job in its group');
      if (mine instanceof Error) throw mine;
      record = mine;
    } catch (err) {
      if (err instanceof PausedSignal) return this.putBack(job, token);
      if (!(err instanceof TcssApiError)) throw err;
      const fields = { code: err.code, requestId: err.requestId, attempt: job.attemptsMade + 1 };
      const reason = `${err.message}${err.requestId ? ` (RequestId ${err.requestId})` : ''}`;
      if (err.action === 'fail') {
        log.error(fields, 'permanent error: job failed');
        throw withoutStack(new UnrecoverableError(reason));
      }
      // 'retry' (and anything unexpected): BullMQ retries with backoff while attempts remain.
      if (job.attemptsMade + 1 < (job.opts.attempts ?? 1)) this.metrics.retry();
      log.warn(fields, 'transient error');
      throw withoutStack(new Error(reason));
    }
    log.info(
      { taskId: record.taskId, requestId: record.requestId, assets: data.assetIds.length, callAssets: record.assetIds.length, mergedJobs: record.jobIds.length, attempt: job.attemptsMade + 1 },
      'rescan started: TaskId recorded',
    );
    return jobView(record, ref, data);
  }

  /**
   * The call(s) for a group of jobs (see coalescer.ts): one call for all members; if the API refuses it
   * for a reason that may belong to one member (scope `job`), the members are split in halves and each
   * half called again, down to single jobs, so that only the jobs at fault get the refusal.
   */
  private async runGroup(group: Group<GroupPayload>): Promise<GroupOutcome> {
    const outcome: GroupOutcome = new Map();
    await this.callMembers(group.members, outcome, () => {
      group.closed = true; // the call leaves with the members it has
    });
    return outcome;
  }

  /** Calls for `members` and puts each member's outcome in `outcome`; bisects job-scoped refusals. */
  private async callMembers(members: Member<GroupPayload>[], outcome: GroupOutcome, onLeave?: () => void): Promise<void> {
    try {
      const record = await this.callOnce(members, onLeave);
      for (const m of members) outcome.set(m.payload.ref, record);
    } catch (err) {
      if (err instanceof TcssApiError && err.scope === 'job' && err.action === 'fail' && members.length > 1) {
        const half = Math.ceil(members.length / 2);
        this.log.warn(
          { policyItemId: members[0]!.payload.data.policyItemId, code: err.code, requestId: err.requestId, jobs: members.length, halves: [half, members.length - half] },
          'merged call refused for a reason that may belong to one job: calling again in halves to find the jobs at fault',
        );
        await Promise.all([this.callMembers(members.slice(0, half), outcome), this.callMembers(members.slice(half), outcome)]);
        return;
      }
      const e = err instanceof Error ? err : new Error(String(err));
      for (const m of members) outcome.set(m.payload.ref, e);
    }
  }

  /**
   * One call for `members`: through the budget, called again when throttled, recorded for every member.
   * Errors other than throttles are thrown (the caller hands them to the members or bisects).
   */
  private async callOnce(members: Member<GroupPayload>[], onLeave?: () => void): Promise<RescanResult> {
    const first = members[0]!.payload.data;
    // The first call's members may still grow until it leaves (coalescer.ts): take the assets then.
    let assetIds = uniqueAssets(members);
    const log = this.log.child({ policyItemId: first.policyItemId });
    for (let throttles = 0; ; throttles++) {
      let outcome: ScanOk | 'paused';
      try {
        const call = this.budget.schedule(async () => {
          onLeave?.();
          assetIds = uniqueAssets(members);
          // Groups queued for the budget when the worker paused must not call with bad credentials.
          if (this.pauseInfo) return 'paused' as const;
          return this.client.scan({ policyItemId: first.policyItemId, assetIds, ...(first.assetType ? { assetType: first.assetType } : {}) });
        });
        // On a pause, the group's jobs go back at once rather than when the budget reaches them.
        outcome = await Promise.race([call, this.pauseGate]);
      } catch (err) {
        if (!(err instanceof TcssApiError)) throw err;
        this.metrics.call(err.code, err.latencyMs);
        const fields = { code: err.code, requestId: err.requestId, latencyMs: Math.round(err.latencyMs), assets: assetIds.length, jobIds: members.map((m) => m.payload.ref.id) };
        if (err.action === 'throttle') {
          const rate = await this.budget.throttled(err);
          log.warn({ ...fields, throttles: throttles + 1, rate: Math.round(rate * 100) / 100 }, 'throttled by the API: calling again through the budget');
          continue;
        }
        if (err.action === 'pause') {
          await this.pause(err);
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
        assetIds,
        ...(first.assetType !== undefined ? { assetType: first.assetType } : {}),
        jobIds: members.map((m) => m.payload.ref.id),
        calledAt: new Date().toISOString(),
      };
      this.budget.succeeded();
      const byRef = new Map(members.map((m) => [m.payload.ref, m.payload.data]));
      await this.saveWithRetries(record, [...byRef.keys()], (ref) => jobView(record, ref, byRef.get(ref)!), log);
      const now = Date.now();
      this.metrics.taskIdWait(members.map((m) => Math.max(0, now - m.payload.ref.timestamp) / 1000));
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

  /** Stops taking jobs for a code that would fail every job (the table's `pause`), and says why. */
  private async pause(err: TcssApiError): Promise<void> {
    if (this.pauseInfo) return;
    const now = new Date().toISOString();
    this.pauseInfo = { code: err.code, message: err.message, ...(err.requestId ? { requestId: err.requestId } : {}), at: now, seenAt: now };
    this.log.fatal({ code: err.code, requestId: err.requestId, workerId: this.id, apiMessage: err.message }, pauseAdvice(err.code));
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
      this.heartbeat?.stop();
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

/** Unique asset ids of the members, in order of arrival. */
function uniqueAssets(members: readonly Member<GroupPayload>[]): number[] {
  return [...new Set(members.flatMap((m) => m.assetIds))];
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
