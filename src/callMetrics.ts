/**
 * Counters of what the workers did, kept in Redis so that `/metrics` of any server process reports the
 * whole cluster (workers and servers are often different processes). One hash per queue; each call
 * adds a handful of HINCRBYs in one pipeline, fire-and-forget: metrics never slow down or fail a job.
 */
import type { Redis } from 'ioredis';
import { keys } from './keys';
import type { Logger } from './logger';

/** Upper bounds of the call latency histogram, in seconds (Prometheus `le`). */
export const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export interface CallMetricsSnapshot {
  /** Calls by outcome code ('OK' for success), including throttled ones. */
  calls: Record<string, number>;
  throttled: number;
  retries: number;
  /** Cumulative counts per `le` (seconds; '+Inf' last), as Prometheus wants them. */
  latencyBuckets: [string, number][];
  latencySumSeconds: number;
  latencyCount: number;
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
    if (code.startsWith('RequestLimitExceeded')) p.hincrby(this.key, 'throttled', 1);
    this.flush(p);
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
    let cumulative = 0;
    const latencyBuckets: [string, number][] = [];
    for (const le of LATENCY_BUCKETS) {
      cumulative += Number(h[`latency_bucket:${le}`] ?? 0);
      latencyBuckets.push([String(le), cumulative]);
    }
    cumulative += Number(h['latency_bucket:+Inf'] ?? 0);
    latencyBuckets.push(['+Inf', cumulative]);
    return {
      calls,
      throttled: Number(h.throttled ?? 0),
      retries: Number(h.retries ?? 0),
      latencyBuckets,
      latencySumSeconds: Number(h.latency_sum_seconds ?? 0),
      latencyCount: Number(h.latency_count ?? 0),
    };
  }
}
