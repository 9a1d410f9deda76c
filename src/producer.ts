/**
 * The enqueue API for other Node services (and our CLI and HTTP API): validates at the door, splits
 * large requests into jobs sharing a batch id, and adds them in bulk.
 *
 *   const producer = new RescanProducer({ redisUrl, queueName });
 *   const { jobIds } = await producer.enqueue({ policyItemId: 2798, assetIds: [2202462] });
 */
import { randomUUID } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import { JOB_NAME, ValidationError, parseRescanRequest, splitRescan, type RescanJobData, type RescanRequest } from './job';
import { BACKOFF_TYPE } from './backoff';
import type { RedisConfig } from './config';
import { bullConnection, type BullConnection } from './redisConnection';

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
}

export interface EnqueueOptions {
  /** BullMQ priority: 1 is the most urgent; larger numbers wait (scheduled rescans use a larger one). */
  priority?: number;
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
};

/** Jobs per addBulk, and addBulk calls in flight at once, for large enqueues. */
const BULK_CHUNK = 1000;
const BULK_LANES = 4;

/** How long finished jobs stay in the queue (the TaskId records stay longer, see records.ts). */
const KEEP_COMPLETED = { age: 7 * 86_400, count: 100_000 };
const KEEP_FAILED = { age: 30 * 86_400 };

export class RescanProducer {
  readonly queue: Queue;
  private readonly o: Required<Omit<ProducerOptions, 'redis'>>;
  private readonly bull: BullConnection | undefined;

  constructor(options: ProducerOptions = {}) {
    const { redis, ...rest } = options;
    this.o = { ...defaults, ...rest };
    this.bull = redis ? bullConnection(redis, { maxRetriesPerRequest: null }) : undefined;
    this.queue = this.bull
      ? new Queue(this.o.queueName, { connection: this.bull.connection, prefix: this.bull.prefix })
      : new Queue(this.o.queueName, { connection: { url: this.o.redisUrl, maxRetriesPerRequest: null } });
  }

  /** The job options every rescan gets (also used for scheduled rescans). */
  jobOptions(extra: EnqueueOptions = {}): JobsOptions {
    return {
      attempts: this.o.maxAttempts,
      backoff: { type: BACKOFF_TYPE, delay: this.o.backoffMs },
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: KEEP_FAILED,
      ...(extra.priority !== undefined ? { priority: extra.priority } : {}),
    };
  }

  /**
   * Validates every request first (a ValidationError names each bad one by index and field; nothing
   * is enqueued then), then adds all jobs in bulk (chunks of 1000, 4 in flight). Validation is all or
   * nothing; the adding is not a transaction: if Redis fails half-way, the chunks added stay.
   */
  async enqueueMany(requests: unknown[], opts: EnqueueOptions = {}): Promise<EnqueueResult> {
    const valid = validateAll(requests);
    const jobs: RescanJobData[] = [];
    const batchIds: (string | undefined)[] = [];
    for (const req of valid) {
      const parts = splitRescan(req, this.o.maxAssetsPerCall, randomUUID);
      batchIds.push(parts[0]?.batchId);
      jobs.push(...parts);
    }
    const jobOpts = this.jobOptions(opts);
    const bulk = jobs.map((data) => ({ name: JOB_NAME, data, opts: jobOpts }));
    // Large lists go in chunks, a few at a time: one huge addBulk holds Redis for long, and one chunk
    // at a time leaves the connection idle between round trips (see BENCHMARKS.md, section 4).
    const chunks: (typeof bulk)[] = [];
    for (let i = 0; i < bulk.length; i += BULK_CHUNK) chunks.push(bulk.slice(i, i + BULK_CHUNK));
    const added: string[][] = new Array(chunks.length);
    let next = 0;
    const lane = async () => {
      for (let i = next++; i < chunks.length; i = next++) added[i] = (await this.queue.addBulk(chunks[i]!)).map((j) => j.id ?? '');
    };
    await Promise.all(Array.from({ length: Math.min(BULK_LANES, chunks.length) }, lane));
    return { jobIds: added.flat(), batchIds, jobs };
  }

  /** One request (split into several jobs when it has more than maxAssetsPerCall assets). */
  async enqueue(request: RescanRequest | unknown, opts: EnqueueOptions = {}): Promise<EnqueueResult> {
    return this.enqueueMany([request], opts);
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.bull?.close();
  }
}

/**
 * Validates a list of requests; one ValidationError lists every problem as `<label>: <problem>`
 * (label `#1`, `#2`, ... by default; the CLI says `line N`).
 */
export function validateAll(requests: unknown[], label: (index: number) => string = (i) => `#${i + 1}`): RescanRequest[] {
  const out: RescanRequest[] = [];
  const problems: string[] = [];
  requests.forEach((r, i) => {
    try {
      out.push(parseRescanRequest(r));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      for (const p of err.problems) problems.push(requests.length === 1 ? p : `${label(i)}: ${p}`);
    }
  });
  if (problems.length > 0) throw new ValidationError(problems);
  return out;
}
