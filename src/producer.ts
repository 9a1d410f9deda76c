/**
 * The enqueue API for other Node services (and our CLI and HTTP API): validates at the door, splits
 * large requests into jobs sharing a batch id, and adds them in bulk.
 *
 *   const producer = new RescanProducer({ redisUrl, queueName });
 *   const { jobIds } = await producer.enqueue({ policyItemId: 2798, assetIds: [2202462] });
 */
import { randomUUID } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import {
  JOB_NAME,
  ValidationError,
  parseRescanRequest,
  splitRescan,
  type RescanJobData,
  type RescanRequest,
} from './job';
import { BACKOFF_TYPE } from './budget';
import {
  checkIdempotencyKey,
  claimIdempotencyKey,
  completeIdempotencyKey,
  fingerprint,
  idempotentBatchId,
  idempotentJobId,
} from './idempotency';
import { DEFAULT_PRODUCER_TIMEOUT_MS, FailFastConnection, isRedisUnavailableError } from './redisFailFast';
import type { RedisConfig } from './config';
import { queuePrefix } from './redisConnection';

export interface ProducerOptions {
  /** Redis URL. Default redis://127.0.0.1:6379. */
  redisUrl?: string;
  /** How to reach Redis (TLS, ACL, Sentinel, Cluster: `loadConfig().redis`); wins over `redisUrl`. */
  redis?: RedisConfig;
  /** Queue name. Default "tcss-rescan". */
  queueName?: string;
  /** Most assets per job; larger requests are split. Default 100. */
  maxAssetsPerCall?: number;
  /** Attempts for transient errors. Default 6. */
  maxAttempts?: number;
  /** Base of the exponential backoff between attempts, ms. Default 1000. */
  backoffMs?: number;
  /**
   * Jobs per addBulk, and addBulk calls in flight, for large enqueues. Default 1000 and 4 (fastest).
   * Smaller keeps each stretch of CPU work short, for a process that must also answer quickly (the
   * HTTP server): BullMQ prepares a whole chunk in one go.
   */
  bulkChunk?: number;
  bulkLanes?: number;
  /**
   * Longest wait for Redis at each step (connecting, each round trip), ms; then a
   * RedisUnavailableError, and nothing is sent later (see redisFailFast.ts). Default 5000.
   */
  timeoutMs?: number;
}

export interface EnqueueOptions {
  /** BullMQ priority: 1 is the most urgent; larger numbers wait (scheduled rescans use a larger one). */
  priority?: number;
  /**
   * Makes the call idempotent for 24 h: a retry with the same key returns the same job ids and
   * enqueues nothing new; the same key with different requests or options throws
   * IdempotencyConflictError (see idempotency.ts). 1 to 255 printable ASCII characters.
   */
  idempotencyKey?: string;
}

export interface EnqueueResult {
  /** Ids of the jobs added, in order. */
  jobIds: string[];
  /** The batch id shared by jobs that one request was split into (one entry per request). */
  batchIds: (string | undefined)[];
  /** The jobs' data, as enqueued. */
  jobs: RescanJobData[];
}

const defaults: Required<Omit<ProducerOptions, 'redis'>> = {
  redisUrl: 'redis://127.0.0.1:6379',
  queueName: 'tcss-rescan',
  maxAssetsPerCall: 100,
  maxAttempts: 6,
  backoffMs: 1000,
  bulkChunk: 1000,
  bulkLanes: 4,
  timeoutMs: DEFAULT_PRODUCER_TIMEOUT_MS,
};

/** The connection and queue that enqueues; replaced after a timeout (the old one is closed for good). */
interface Writer {
  conn: FailFastConnection;
  queue: Queue;
}

/** The largest BullMQ priority (BullMQ 6 keeps it in 21 bits of a job's score); 1 is the most urgent. */
export const MAX_PRIORITY = 2_097_151;

/** How long finished jobs stay in the queue (the TaskId records stay longer, see records.ts). */
const KEEP_COMPLETED = { age: 7 * 86_400, count: 100_000 };
const KEEP_FAILED = { age: 30 * 86_400 };

export class RescanProducer {
  /** The queue for reads (status, dashboard, schedules); its connection fails fast too. */
  readonly queue: Queue;
  private readonly o: Required<Omit<ProducerOptions, 'redis'>>;
  /** How to reach Redis (TLS, ACL, Sentinel, Cluster), or undefined for plain `redisUrl`. */
  private readonly redis: RedisConfig | undefined;
  private readonly prefix: string | undefined;
  private readonly readConn: FailFastConnection;
  private writer: Writer | undefined;

  constructor(options: ProducerOptions = {}) {
    const { redis, ...rest } = options;
    this.o = { ...defaults, ...rest };
    this.redis = redis;
    this.prefix = redis ? queuePrefix(redis) : undefined;
    this.readConn = new FailFastConnection(this.redis ?? this.o.redisUrl, this.o.timeoutMs);
    this.queue = new Queue(this.o.queueName, {
      connection: this.readConn.client,
      ...(this.prefix ? { prefix: this.prefix } : {}),
    });
    // Errors are kept by the connection and shown only redacted; without a listener BullMQ would
    // console.error them, command arguments (a refused AUTH's password) included.
    this.queue.on('error', () => undefined);
  }

  /** The job options every rescan gets (also used for scheduled rescans). */
  jobOptions(extra: Pick<EnqueueOptions, 'priority'> = {}): JobsOptions {
    return {
      attempts: this.o.maxAttempts,
      backoff: { type: BACKOFF_TYPE, delay: this.o.backoffMs },
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
      ...(extra.priority !== undefined ? { priority: extra.priority } : {}),
    };
  }

  /**
   * Waits (at most timeoutMs) until the read queue's connection is usable; RedisUnavailableError
   * otherwise, saying `outcome`.
   */
  async ready(outcome = 'nothing was read'): Promise<void> {
    await this.readConn.ready(outcome);
    await this.readConn.within(this.queue.waitUntilReady(), outcome);
  }

  private openWriter(): Writer {
    const conn = new FailFastConnection(this.redis ?? this.o.redisUrl, this.o.timeoutMs);
    const queue = new Queue(this.o.queueName, {
      connection: conn.client,
      skipMetasUpdate: true,
      ...(this.prefix ? { prefix: this.prefix } : {}),
    });
    queue.on('error', () => undefined);
    return { conn, queue };
  }

  private dropWriter(w: Writer): void {
    if (this.writer === w) this.writer = undefined;
    w.conn.close();
    void w.queue.close().catch(() => undefined);
  }

  /**
   * Validates every request first (a ValidationError names each bad one by index and field; nothing
   * is enqueued then), then adds all jobs in bulk (chunks of 1000, 4 in flight). Validation is all or
   * nothing; the adding is not a transaction: if Redis fails half-way, the chunks added stay (with an
   * idempotencyKey, a retry adds exactly the missing ones).
   *
   * Redis down, refusing the login or not answering within timeoutMs at any step: a
   * RedisUnavailableError, and nothing of this call reaches Redis afterwards.
   */
  async enqueueMany(requests: unknown[], opts: EnqueueOptions = {}): Promise<EnqueueResult> {
    const valid = await validateAllYielding(requests);
    if (
      opts.priority !== undefined &&
      !(Number.isInteger(opts.priority) && opts.priority >= 1 && opts.priority <= MAX_PRIORITY)
    ) {
      throw new ValidationError([
        `priority must be a whole number from 1 to ${MAX_PRIORITY}, got ${String(opts.priority)}`,
      ]);
    }
    const key = opts.idempotencyKey !== undefined ? checkIdempotencyKey(opts.idempotencyKey) : undefined;
    const w = (this.writer ??= this.openWriter());
    const step = <T>(work: Promise<T>, what: string) => w.conn.within(work, what, () => this.dropWriter(w));
    try {
      await w.conn.ready('nothing was enqueued', () => this.dropWriter(w));
      await step(w.queue.waitUntilReady(), 'nothing was enqueued');
      let claim: Awaited<ReturnType<typeof claimIdempotencyKey>> | undefined;
      if (key !== undefined) {
        const fp = fingerprint(valid, { priority: opts.priority ?? null, maxAssetsPerCall: this.o.maxAssetsPerCall });
        claim = await step(claimIdempotencyKey(w.conn.client, this.o.queueName, key, fp), 'nothing was enqueued');
      }
      const nonce = claim?.record.nonce;
      const jobs: RescanJobData[] = [];
      const batchIds: (string | undefined)[] = [];
      for (const [i, req] of valid.entries()) {
        if (i > 0 && i % YIELD_EVERY === 0) await yieldToEventLoop();
        const parts = splitRescan(
          req,
          this.o.maxAssetsPerCall,
          nonce !== undefined ? () => idempotentBatchId(nonce, i) : randomUUID,
        );
        batchIds.push(parts[0]?.batchId);
        jobs.push(...parts);
      }
      if (claim?.record.jobIds) return { jobIds: claim.record.jobIds, batchIds, jobs }; // a retry of a finished call

      const jobOpts = this.jobOptions(opts);
      const bulk = jobs.map((data, n) => ({
        name: JOB_NAME,
        data,
        opts: nonce !== undefined ? { ...jobOpts, jobId: idempotentJobId(nonce, n) } : jobOpts,
      }));
      // Large lists go in chunks, a few at a time: one huge addBulk holds Redis for long, and one chunk
      // at a time leaves the connection idle between round trips (see BENCHMARKS.md, section 4).
      const chunks: (typeof bulk)[] = [];
      for (let i = 0; i < bulk.length; i += this.o.bulkChunk) chunks.push(bulk.slice(i, i + this.o.bulkChunk));
      const added: string[][] = Array.from({ length: chunks.length }, () => []);
      const partly =
        key !== undefined
          ? 'some jobs may have been enqueued; retry with the same idempotency key to add exactly the rest'
          : 'some jobs may have been enqueued';
      let next = 0;
      const lane = async () => {
        for (let i = next++; i < chunks.length; i = next++)
          added[i] = (await step(w.queue.addBulk(chunks[i]!), partly)).map((j) => j.id ?? '');
      };
      await Promise.all(Array.from({ length: Math.min(this.o.bulkLanes, chunks.length) }, lane));
      const jobIds = added.flat();
      if (claim) {
        // Best effort: if this fails, a retry re-adds with the same ids, which BullMQ ignores.
        await step(
          completeIdempotencyKey(w.conn.client, claim.redisKey, {
            ...claim.record,
            jobIds,
            batchIds: batchIds.map((b) => b ?? null),
          }),
          'the jobs were enqueued',
        ).catch(() => undefined);
      }
      return { jobIds, batchIds, jobs };
    } catch (err) {
      // A writer that failed may hold commands in flight: never reuse it.
      if (isRedisUnavailableError(err)) this.dropWriter(w);
      throw err;
    }
  }

  /** One request (split into several jobs when it has more than maxAssetsPerCall assets). */
  async enqueue(request: unknown, opts: EnqueueOptions = {}): Promise<EnqueueResult> {
    return this.enqueueMany([request], opts);
  }

  async close(): Promise<void> {
    const w = this.writer;
    this.writer = undefined;
    await Promise.all([this.queue.close().catch(() => undefined), w?.queue.close().catch(() => undefined)]);
    this.readConn.close();
    w?.conn.close();
  }
}

/** Requests validated or split between two turns of the event loop (other work, e.g. a probe, gets in). */
const YIELD_EVERY = 500;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** validateAll, giving the event loop a turn every YIELD_EVERY requests (same result, same labels). */
async function validateAllYielding(requests: unknown[]): Promise<RescanRequest[]> {
  if (requests.length <= YIELD_EVERY) return validateAll(requests);
  const out: RescanRequest[] = [];
  const problems: string[] = [];
  for (let start = 0; start < requests.length; start += YIELD_EVERY) {
    if (start > 0) await yieldToEventLoop();
    try {
      out.push(...validateAll(requests.slice(start, start + YIELD_EVERY), (i) => `#${start + i + 1}`, true));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      problems.push(...err.problems);
    }
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return out;
}

/**
 * Validates a list of requests; one ValidationError lists every problem as `<label>: <problem>`
 * (label `#1`, `#2`, ... by default; the CLI says `line N`).
 */
export function validateAll(
  requests: unknown[],
  label: (index: number) => string = (i) => `#${i + 1}`,
  labelled = requests.length !== 1,
): RescanRequest[] {
  const out: RescanRequest[] = [];
  const problems: string[] = [];
  requests.forEach((r, i) => {
    try {
      out.push(parseRescanRequest(r));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      for (const p of err.problems) problems.push(labelled ? `${label(i)}: ${p}` : p);
    }
  });
  if (problems.length > 0) throw new ValidationError(problems);
  return out;
}
