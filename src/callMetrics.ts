/**
 * Counters of what the workers did, kept in Redis so that `/metrics` of any server process reports the
 * whole cluster (workers and servers are often different processes). One hash per queue; each call
 * adds a handful of HINCRBYs in one pipeline, fire-and-forget: metrics never slow down or fail a job.
 */
import type { Redis } from 'ioredis';
import { keys } from './keys';
import type { Logger } from './logger';
import { isThrottle } from './tcss/errorTable';

/** Upper bounds of the call latency histogram, in seconds (Prometheus `le`). */
export const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/**
 * Upper bounds of the enqueue-to-TaskId histogram, in seconds: what a producing service waits from
 * adding a job to its TaskId being recorded (queueing, the shared budget, throttles and retries).
 */
export const TASK_ID_WAIT_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200] as const;

export interface HistogramSnapshot {
  /** Cumulative counts per `le` (seconds; '+Inf' last), as Prometheus wants them. */
  buckets: [string, number][];
  sumSeconds: number;
  count: number;
}

export interface CallMetricsSnapshot {
  /** Calls by outcome code ('OK' for success), including throttled ones. */
  calls: Record<string, number>;
  throttled: number;
  retries: number;
  /** Cumulative counts per `le` (seconds; '+Inf' last), as Prometheus wants them. */
  latencyBuckets: [string, number][];
  latencySumSeconds: number;
  latencyCount: number;
  /** Seconds from a job's enqueue to its TaskId being recorded, one observation per job. */
  taskIdWait: HistogramSnapshot;
  /** Jobs that failed for good (permanent error, contract violation or attempts used up). */
  failedJobs: number;
}

export class CallMetrics {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    queueName: string,
    private readonly log?: Logger,
  ) {
    this.key = keys.metrics(queueName);
  }

  /** One answered (or failed) call. `code` is 'OK' or the error code. */
  call(code: string, latencyMs: number): void {
    const seconds = latencyMs / 1000;
    const bucket = LATENCY_BUCKETS.find((le) => seconds <= le);
    const p = this.redis.pipeline();
    p.hincrby(this.key, `calls:${code}`, 1);
    p.hincrby(this.key, `latency_bucket:${bucket ?? '+Inf'}`, 1);
    p.hincrbyfloat(this.key, 'latency_sum_seconds', seconds);
    p.hincrby(this.key, 'latency_count', 1);
    if (isThrottle(code)) p.hincrby(this.key, 'throttled', 1);
    this.flush(p);
  }

  /** Jobs whose TaskId was just recorded, `seconds` after each was enqueued. */
  taskIdWait(secondsEach: number[]): void {
    if (secondsEach.length === 0) return;
    const p = this.redis.pipeline();
    for (const seconds of secondsEach) {
      const bucket = TASK_ID_WAIT_BUCKETS.find((le) => seconds <= le);
      p.hincrby(this.key, `wait_bucket:${bucket ?? '+Inf'}`, 1);
      p.hincrbyfloat(this.key, 'wait_sum_seconds', seconds);
    }
    p.hincrby(this.key, 'wait_count', secondsEach.length);
    this.flush(p);
  }

  /** A job that failed for good. */
  jobFailed(): void {
    this.flush(this.redis.pipeline().hincrby(this.key, 'failed_jobs', 1));
  }

  /** A transient error that BullMQ will retry. */
  retry(): void {
    this.flush(this.redis.pipeline().hincrby(this.key, 'retries', 1));
  }

  private flush(p: ReturnType<Redis['pipeline']>): void {
    p.exec().catch((err: unknown) => this.log?.debug({ err }, 'metrics not recorded'));
  }

  async snapshot(): Promise<CallMetricsSnapshot> {
    const h = await this.redis.hgetall(this.key);
    const calls: Record<string, number> = {};
    for (const [k, v] of Object.entries(h)) if (k.startsWith('calls:')) calls[k.slice(6)] = Number(v);
    const latencyBuckets = cumulativeBuckets(h, 'latency_bucket', LATENCY_BUCKETS);
    return {
      calls,
      throttled: Number(h.throttled ?? 0),
      retries: Number(h.retries ?? 0),
      latencyBuckets,
      latencySumSeconds: Number(h.latency_sum_seconds ?? 0),
      latencyCount: Number(h.latency_count ?? 0),
      taskIdWait: {
        buckets: cumulativeBuckets(h, 'wait_bucket', TASK_ID_WAIT_BUCKETS),
        sumSeconds: Number(h.wait_sum_seconds ?? 0),
        count: Number(h.wait_count ?? 0),
      },
      failedJobs: Number(h.failed_jobs ?? 0),
    };
  }
}

function cumulativeBuckets(h: Record<string, string>, field: string, bounds: readonly number[]): [string, number][] {
  let cumulative = 0;
  const out: [string, number][] = [];
  for (const le of bounds) {
    cumulative += Number(h[`${field}:${le}`] ?? 0);
    out.push([String(le), cumulative]);
  }
  cumulative += Number(h[`${field}:+Inf`] ?? 0);
  out.push(['+Inf', cumulative]);
  return out;
}
