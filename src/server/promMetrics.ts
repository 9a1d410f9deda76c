/**
 * GET /metrics in Prometheus format (prom-client), by the book (`promtool check metrics` is clean, see
 * test/server/promMetrics.test.ts):
 * - the process metrics of prom-client's collectDefaultMetrics keep their standard names (no prefix),
 *   so the usual Node.js dashboards work; they describe this server process;
 * - every `tcss_rescan_*` series carries a `queue` label and a unit in its name where it has one;
 * - the `tcss_rescan_*` series are CLUSTER-WIDE: the workers count in Redis (callMetrics.ts) and job
 *   counts are read from Redis at scrape time, so every server replica exports the same values.
 *   Aggregate them with `max by (queue, ...)`, never `sum` (which would multiply them by the number
 *   of replicas); deploy/prometheus/rules.yml records them that way and the dashboard and alerts use
 *   those records. docs/prometheus.md says why one exporter per cluster value is not needed.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { CallMetrics } from '../callMetrics';
import { queueStatus, STATES } from '../status';

/** prom-client default metrics left out: gauges with a counter's `_total` suffix (see below). */
export const PROM_CLIENT_TOTAL_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

/** Upper bound of the oldest-waiting-job look-up: one job per state, never a scan of the queue. */
const OLDEST_STATES = ['wait', 'prioritized'] as const;

export interface PromMetricsOptions {
  queue: Queue;
  redis: Redis;
  /** Reads the shared budget's current rate (req/s), when this process knows the budget. */
  currentRate?: () => Promise<number | undefined>;
}

/** A histogram whose buckets are already counted elsewhere (prom-client's duck-typed metric interface). */
function externalHistogram(
  name: string,
  help: string,
  labels: Record<string, string>,
  read: () => Promise<{ buckets: [string, number][]; sum: number; count: number }>,
): Metric {
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const h = await read();
      return {
        name,
        help,
        type: 'histogram',
        aggregator: 'sum',
        values: [
          ...h.buckets.map(([le, value]) => ({ metricName: `${name}_bucket`, labels: { ...labels, le }, value })),
          { metricName: `${name}_sum`, labels, value: h.sum },
          { metricName: `${name}_count`, labels, value: h.count },
        ],
      };
    },
    reset() {},
  } as unknown as Metric;
}

export function createPromRegistry(opts: PromMetricsOptions): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Three gauges of prom-client named like counters: `promtool check metrics` flags them, and their
  // values are `sum without (type) (nodejs_active_handles)` etc. (prometheus/client_js issue #283).
  for (const name of PROM_CLIENT_TOTAL_GAUGES) registry.removeSingleMetric(name);
  const queue = opts.queue.name;
  const calls = new CallMetrics(opts.redis, queue);
  let snapshot: ReturnType<CallMetrics['snapshot']> | undefined;
  // One Redis read per scrape for the call counters and one for the queue, shared by the series below.
  const fresh = () => (snapshot ??= calls.snapshot().finally(() => setImmediate(() => (snapshot = undefined))));
  let status: ReturnType<typeof queueStatus> | undefined;
  const freshStatus = () =>
    (status ??= queueStatus(opts.queue, opts.redis).finally(() => setImmediate(() => (status = undefined))));

  registerCallCounters(registry, queue, fresh);
  registerCallHistograms(registry, queue, fresh);
  registerQueueGauges(registry, opts.queue, freshStatus);
  if (opts.currentRate) registerRateGauge(registry, queue, opts.currentRate);
  return registry;
}

/** Reads the workers' call counters from Redis, once per scrape (CallMetrics.snapshot). */
type CallSnapshot = () => ReturnType<CallMetrics['snapshot']>;

/** The workers' API calls counted in Redis: by outcome, throttled, retried, and jobs failed for good. */
function registerCallCounters(registry: Registry, queue: string, fresh: CallSnapshot): void {
  new Counter({
    name: 'tcss_rescan_calls_total',
    help: 'ScanComplianceAssetsByPolicyItem calls by outcome code (OK for success), cluster-wide',
    labelNames: ['queue', 'code'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [code, n] of Object.entries((await fresh()).calls)) this.inc({ queue, code }, n);
    },
  });
  new Counter({
    name: 'tcss_rescan_throttled_calls_total',
    help: 'Calls the API refused with RequestLimitExceeded (called again through the budget), cluster-wide',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      this.inc({ queue }, (await fresh()).throttled);
    },
  });
  new Counter({
    name: 'tcss_rescan_retries_total',
    help: 'Transient errors that were retried with backoff, cluster-wide',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      this.inc({ queue }, (await fresh()).retries);
    },
  });
  new Counter({
    name: 'tcss_rescan_failed_jobs_total',
    help: 'Jobs that failed for good (permanent API error, invalid job, or attempts used up), cluster-wide',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.reset();
      this.inc({ queue }, (await fresh()).failedJobs);
    },
  });
}

/** Call latency and enqueue-to-TaskId wait, bucketed by the workers in Redis. */
function registerCallHistograms(registry: Registry, queue: string, fresh: CallSnapshot): void {
  registry.registerMetric(
    externalHistogram(
      'tcss_rescan_call_duration_seconds',
      'Latency of API calls in seconds, cluster-wide',
      { queue },
      async () => {
        const s = await fresh();
        return { buckets: s.latencyBuckets, sum: s.latencySumSeconds, count: s.latencyCount };
      },
    ),
  );
  registry.registerMetric(
    externalHistogram(
      'tcss_rescan_enqueue_to_task_id_seconds',
      'Seconds from a job being enqueued to its TaskId being recorded, one observation per job, cluster-wide',
      { queue },
      async () => {
        const { taskIdWait: w } = await fresh();
        return { buckets: w.buckets, sum: w.sumSeconds, count: w.count };
      },
    ),
  );
}

/** The queue read at scrape time: jobs by state, paused workers, the oldest waiting job's age. */
function registerQueueGauges(registry: Registry, q: Queue, freshStatus: () => ReturnType<typeof queueStatus>): void {
  const queue = q.name;
  new Gauge({
    name: 'tcss_rescan_jobs',
    help: 'Jobs in the queue by state',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      const s = await freshStatus();
      for (const state of STATES) this.set({ queue, state }, s.counts[state]);
    },
  });
  new Gauge({
    name: 'tcss_rescan_paused_workers',
    help: 'Workers that stopped taking jobs because the API refused the credentials',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      this.set({ queue }, Object.keys((await freshStatus()).pausedWorkers).length);
    },
  });
  new Gauge({
    name: 'tcss_rescan_oldest_waiting_job_age_seconds',
    help: 'Age of the oldest job waiting for a worker (the head of the waiting list and of the prioritized set), 0 when none waits',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const jobs = await q.getJobs([...OLDEST_STATES], 0, 0, true);
      const oldest = Math.min(...jobs.map((j) => j.timestamp).filter((t) => Number.isFinite(t)));
      this.set({ queue }, Number.isFinite(oldest) ? Math.max(0, (Date.now() - oldest) / 1000) : 0);
    },
  });
}

/** The shared budget's current rate, when this process knows the budget. */
function registerRateGauge(registry: Registry, queue: string, read: () => Promise<number | undefined>): void {
  new Gauge({
    name: 'tcss_rescan_limiter_rate_requests_per_second',
    help: "The shared budget's current rate in requests per second (lower than the limit after throttling)",
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const r = await read();
      if (r !== undefined) this.set({ queue }, r);
    },
  });
}
