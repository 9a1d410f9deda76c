/**
 * GET /metrics in Prometheus format (prom-client). The call counters and the latency histogram come
 * from Redis (callMetrics.ts), so any server process reports the whole cluster; job counts and the
 * shared budget's current rate are read from Redis at scrape time.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import { CallMetrics } from '../callMetrics';
import { queueStatus, STATES } from '../status';

export interface PromMetricsOptions {
  queue: Queue;
  redis: Redis;
  /** Reads the shared budget's current rate (req/s), when this process knows the budget. */
  currentRate?: () => Promise<number | undefined>;
}

/** A histogram whose buckets are already counted elsewhere (prom-client's duck-typed metric interface). */
function externalHistogram(name: string, help: string, read: () => Promise<{ buckets: [string, number][]; sum: number; count: number }>): Metric {
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
          ...h.buckets.map(([le, value]) => ({ metricName: `${name}_bucket`, labels: { le }, value })),
          { metricName: `${name}_sum`, labels: {}, value: h.sum },
          { metricName: `${name}_count`, labels: {}, value: h.count },
        ],
      };
    },
    reset() {},
  } as unknown as Metric;
}

export function createPromRegistry(opts: PromMetricsOptions): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tcss_rescan_process_' });
  const calls = new CallMetrics(opts.redis, opts.queue.name);
  let snapshot: ReturnType<CallMetrics['snapshot']> | undefined;
  // One Redis read per scrape for the call counters and one for the queue, shared by the series below.
  const fresh = () => (snapshot ??= calls.snapshot().finally(() => setImmediate(() => (snapshot = undefined))));
  let status: ReturnType<typeof queueStatus> | undefined;
  const freshStatus = () => (status ??= queueStatus(opts.queue, opts.redis).finally(() => setImmediate(() => (status = undefined))));

  new Counter({
    name: 'tcss_rescan_calls_total',
    help: 'ScanComplianceAssetsByPolicyItem calls by outcome code (OK for success)',
    labelNames: ['code'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [code, n] of Object.entries((await fresh()).calls)) this.inc({ code }, n);
    },
  });
  new Counter({
    name: 'tcss_rescan_throttled_calls_total',
    help: 'Calls the API refused with RequestLimitExceeded (called again through the budget)',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc((await fresh()).throttled);
    },
  });
  new Counter({
    name: 'tcss_rescan_retries_total',
    help: 'Transient errors that were retried with backoff',
    registers: [registry],
    async collect() {
      this.reset();
      this.inc((await fresh()).retries);
    },
  });
  registry.registerMetric(
    externalHistogram('tcss_rescan_call_duration_seconds', 'Latency of API calls, seconds', async () => {
      const s = await fresh();
      return { buckets: s.latencyBuckets, sum: s.latencySumSeconds, count: s.latencyCount };
    }),
  );
  new Gauge({
    name: 'tcss_rescan_jobs',
    help: 'Jobs in the queue by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const s = await freshStatus();
      for (const state of STATES) this.set({ state }, s.counts[state]);
    },
  });
  new Gauge({
    name: 'tcss_rescan_paused_workers',
    help: 'Workers that stopped taking jobs because the API refused the credentials',
    registers: [registry],
    async collect() {
      this.set(Object.keys((await freshStatus()).pausedWorkers).length);
    },
  });
  if (opts.currentRate) {
    const read = opts.currentRate;
    new Gauge({
      name: 'tcss_rescan_limiter_rate',
      help: "The shared budget's current rate, requests per second (lower than the limit after throttling)",
      registers: [registry],
      async collect() {
        const r = await read();
        if (r !== undefined) this.set(r);
      },
    });
  }
  return registry;
}
