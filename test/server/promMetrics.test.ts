/**
 * /metrics by the book: a live scrape passes `promtool check metrics` (Debian's prometheus package,
 * installed by .ci/run), keeps the standard process metric names, labels every tcss_rescan_* series
 * with its queue, counts enqueue-to-TaskId times and jobs that failed for good; and two server replicas
 * on one Redis export the same cluster-wide values (the documented reason to aggregate with max, not
 * sum: see docs/prometheus.md and the recording rules tested in test/deploy/prometheus.test.ts).
 */
import { spawnSync } from 'node:child_process';
import type { Config } from '../../src/config';
import type { RescanProducer } from '../../src/producer';
import type { RunningServer } from '../../src/server/run';
import { basicAuth } from '../support/http';
import { waitFor } from '../support/redis';
import { startServerStack, type ServerStack } from '../support/serverStack';

const PASSWORD = 'metrics-password-0123';
const AUTH = { authorization: basicAuth('admin', PASSWORD) };
const FAILING_ITEM = 666;

let stack: ServerStack;
let cfg: Config;
let servers: RunningServer[];
let producer: RescanProducer;

const scrape = async (s: RunningServer) => {
  const res = await fetch(`${s.url}/metrics`, { headers: AUTH });
  expect(res.status).toBe(200);
  return res.text();
};

/** `name{labels} value` lines of the tcss_rescan_* series, minus the one that moves with the clock. */
const clusterSeries = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('tcss_rescan_') && !l.startsWith('tcss_rescan_oldest_waiting_job_age_seconds'))
    .sort();

beforeAll(async () => {
  stack = await startServerStack({ queuePrefix: 'prom', password: PASSWORD, failingItem: FAILING_ITEM, servers: 2 });
  ({ cfg, producer, servers } = stack);
});

afterAll(() => stack?.close());

test('promtool is installed (.ci/run installs Debian prometheus)', () => {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  expect(r.error).toBeUndefined();
  expect(r.status).toBe(0);
});

test('the oldest waiting job is reported by age while no worker runs', async () => {
  await producer.enqueue({ policyItemId: 1, assetIds: [1] });
  await new Promise((r) => setTimeout(r, 1_100));
  const m = await scrape(servers[0]!);
  const age = Number(
    new RegExp(`^tcss_rescan_oldest_waiting_job_age_seconds\\{queue="${cfg.queueName}"\\} (\\S+)$`, 'm').exec(m)?.[1],
  );
  expect(age).toBeGreaterThanOrEqual(1);
  expect(age).toBeLessThan(60);
});

test('a live scrape is clean for promtool, with standard process names, queue labels and the new series', async () => {
  await stack.startWorker();
  await producer.enqueueMany([
    { policyItemId: 2, assetIds: [1, 2] },
    { policyItemId: 3, assetIds: [3] },
    { policyItemId: FAILING_ITEM, assetIds: [4] },
  ]);
  await waitFor(
    async () => {
      const c = await producer.queue.getJobCounts('completed', 'failed');
      return c.completed === 3 && c.failed === 1;
    },
    30_000,
    100,
    '3 completed and 1 failed job',
  );
  const m = await waitFor(
    async () => {
      const text = await scrape(servers[0]!);
      return /^tcss_rescan_failed_jobs_total\{[^}]*\} 1$/m.test(text) &&
        /^tcss_rescan_enqueue_to_task_id_seconds_count\{[^}]*\} 3$/m.test(text)
        ? text
        : undefined;
    },
    10_000,
    100,
    'the worker metrics in Redis',
  );

  const check = spawnSync('promtool', ['check', 'metrics'], { input: m, encoding: 'utf8' });
  expect({ status: check.status, out: check.stdout + check.stderr }).toEqual({ status: 0, out: '' });

  // prom-client's default metrics under their standard names (no prefix).
  expect(m).toMatch(/^process_cpu_seconds_total \d/m);
  expect(m).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
  expect(m).not.toMatch(/^tcss_rescan_process_/m);
  // Every series of ours names its queue.
  const ours = m.split('\n').filter((l) => l.startsWith('tcss_rescan_'));
  expect(ours.length).toBeGreaterThan(20);
  expect(ours.filter((l) => !l.includes(`queue="${cfg.queueName}"`))).toEqual([]);
  expect(m).toMatch(
    new RegExp(`^tcss_rescan_enqueue_to_task_id_seconds_bucket\\{queue="${cfg.queueName}",le="\\+Inf"\\} 3$`, 'm'),
  );
  expect(m).toMatch(/^tcss_rescan_calls_total\{[^}]*code="InvalidParameterValue"\} 1$/m);
  expect(m).toMatch(/^tcss_rescan_limiter_rate_requests_per_second\{[^}]*\} 20$/m);
  expect(m).toMatch(/^tcss_rescan_oldest_waiting_job_age_seconds\{[^}]*\} 0$/m);
});

test('two server replicas export the same cluster-wide values (so dashboards aggregate with max, not sum)', async () => {
  const [a, b] = await Promise.all(servers.map(scrape));
  expect(clusterSeries(a!).length).toBeGreaterThan(20);
  expect(clusterSeries(b!)).toEqual(clusterSeries(a!));
  // ...while the process metrics are each replica's own.
  expect(a).toMatch(/^process_start_time_seconds \d/m);
});
