/**
 * Redis Cluster: a local 3-primary cluster (redis-server --cluster-enabled yes, redis-cli --cluster
 * create), two worker processes (the built CLI) and the HTTP server. The same workload drains through
 * one Redis (the suite's) and through the cluster: the rates must match (the budget, not Redis, sets
 * the pace), every TaskId is recorded, and no CROSSSLOT error is raised anywhere.
 */
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { RescanProducer } from '../../src/producer';
import { RecordStore } from '../../src/records';
import { createRedis } from '../../src/redisConnection';
import { startServer } from '../../src/server/run';
import { maxInWindow, startSimulator } from '../../src/simulator';
import { testRedisUrl, uniqueName, waitFor } from '../support/redis';
import { startCluster, type ClusterSet } from '../support/redisTopology';
import { startWorkerProcess, type WorkerProcess } from '../support/workerProcess';

jest.setTimeout(150_000);

const JOBS = 160;

let cluster: ClusterSet;
beforeAll(async () => {
  cluster = await startCluster(3, 0);
});
afterAll(async () => {
  await cluster?.stop();
});

interface Run {
  ms: number;
  calls: number;
  recordedJobs: number;
  maxIn1s: number;
  output: string;
}

/** JOBS jobs through two worker processes and the HTTP API; the time from first to last call. */
async function drain(redisEnv: Record<string, string>): Promise<Run> {
  const queueName = uniqueName('cl');
  const sim = await startSimulator({ port: 0 });
  const env = {
    ...redisEnv,
    QUEUE_NAME: queueName,
    TCSS_ENDPOINT: sim.url,
    WORKER_CONCURRENCY: '32',
    TCSS_COALESCE: 'false',
    SERVER_PORT: '0',
    SERVER_API_TOKEN: 't'.repeat(32),
  };
  const cfg = loadConfig(env);
  const producer = new RescanProducer({ redis: cfg.redis, queueName });
  const redis = createRedis(cfg.redis, { maxRetriesPerRequest: 1 });
  const server = await startServer(cfg, createLogger('silent'));
  const workers: WorkerProcess[] = [];
  try {
    // Half through the producer, half through the HTTP API (the server's own producer).
    await producer.enqueueMany(
      Array.from({ length: JOBS / 2 }, (_, i) => ({ policyItemId: 300 + (i % 5), assetIds: [i + 1] })),
    );
    const res = await fetch(`${server.url}/v1/rescans`, {
      method: 'POST',
      headers: { authorization: `Bearer ${'t'.repeat(32)}`, 'content-type': 'application/json' },
      body: JSON.stringify(
        Array.from({ length: JOBS / 2 }, (_, i) => ({ policyItemId: 400 + (i % 5), assetIds: [1000 + i] })),
      ),
    });
    expect(res.status).toBeLessThan(300);
    workers.push(startWorkerProcess(env), startWorkerProcess(env));
    const output = () => workers.map((w) => w.output()).join('\n');
    await waitFor(
      async () => (await producer.queue.getJobCounts('completed')).completed === JOBS,
      90_000,
      250,
      `${JOBS} completed\n${output().slice(-3000)}`,
    );
    const calls = sim.calls().filter((c) => c.code === 'OK');
    const arrivals = calls.map((c) => c.arrivalMs).sort((a, b) => a - b);
    const store = new RecordStore(redis, { queueName, maxLen: 10_000, ttlSeconds: 60 });
    const recorded = (await store.list({ limit: 10_000 })).records.flatMap((r) => r.jobIds);
    const readyz = (await (await fetch(`${server.url}/readyz`)).json()) as { status: string };
    expect(readyz.status).toBe('ready');
    return {
      ms: arrivals[arrivals.length - 1]! - arrivals[0]!,
      calls: calls.length,
      recordedJobs: new Set(recorded).size,
      maxIn1s: maxInWindow(
        sim.calls().map((c) => c.arrivalMs),
        1000,
      ),
      output: output(),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    await server.close();
    await producer.queue.obliterate({ force: true }).catch(() => undefined);
    await producer.close();
    redis.disconnect();
    await sim.close();
  }
}

test('two workers and the server on a 3-primary cluster drain at the rate of one Redis, record every TaskId, no CROSSSLOT', async () => {
  const single = await drain({ REDIS_URL: testRedisUrl() });
  const onCluster = await drain({ REDIS_CLUSTER_NODES: cluster.nodeList });

  for (const run of [single, onCluster]) {
    expect(run.calls).toBe(JOBS);
    expect(run.recordedJobs).toBe(JOBS);
    expect(run.output).not.toMatch(/CROSSSLOT/);
    expect(run.output).not.toMatch(/"level":50/); // no error logged
    expect(run.maxIn1s).toBeLessThanOrEqual(21); // one arrival of jitter on a loaded machine, as in worker.test.ts
  }
  // The budget sets the pace (20/s): the cluster may not be meaningfully slower than one Redis.
  expect(onCluster.ms).toBeLessThan(single.ms * 1.25 + 500);
  process.stdout.write(`cluster drain: single Redis ${single.ms} ms, cluster ${onCluster.ms} ms for ${JOBS} calls\n`);
});
