/**
 * Redis Cluster failover mid-run: 3 primaries with one replica each (cluster-node-timeout 1000 ms).
 * Two worker processes are busy (calls take 150 ms at the simulator) when the primary serving the
 * queue's slot (BullMQ's keys, prefix `{tcss-rescan}`) is killed (SIGKILL); its replica takes over.
 * Then, as for Sentinel (sentinelFailover.fault.ts): workers, the HTTP server and the producer follow
 * without a restart, every job ends completed or failed, the budget holds (its keys live on another
 * primary unless the slots say otherwise: printed), no CROSSSLOT error; recovery time and duplicate
 * calls are measured and printed.
 */
import { loadConfig } from '../../src/config';
import { keys } from '../../src/keys';
import { budgetId } from '../../src/budget';
import { createLogger } from '../../src/logger';
import { RescanProducer } from '../../src/producer';
import { createRedis } from '../../src/redisConnection';
import { startServer } from '../../src/server/run';
import { DEMO_SUB_ACCOUNT_UIN, maxInWindow, SCAN_ACTION, startSimulator } from '../../src/simulator';
import { JITTER_ALLOWANCE, until, workload } from '../support/faultHarness';
import { checkFaultInvariant, expectInvariant, recordSummary, type AcceptedJob } from '../support/faultInvariant';
import { uniqueName } from '../support/redis';
import { startCluster } from '../support/redisTopology';
import { watchSendLog } from '../support/sendLogWatch';
import { startWorkerProcess, type WorkerProcess } from '../support/workerProcess';

test('Cluster: the primary of the queue slot killed with workers busy; its replica takes over, jobs finish, budget holds', async () => {
  const set = await startCluster(3, 1);
  const sim = await startSimulator({ port: 0, latencyMs: 150 });
  const queueName = uniqueName('fault-cluster');
  const env = {
    REDIS_CLUSTER_NODES: set.nodeList,
    QUEUE_NAME: queueName,
    TCSS_ENDPOINT: sim.url,
    TCSS_TIMEOUT_MS: '5000',
    WORKER_CONCURRENCY: '64',
    SERVER_PORT: '0',
    SERVER_API_TOKEN: 's'.repeat(32),
  };
  const cfg = loadConfig(env);
  const producer = new RescanProducer({ redis: cfg.redis, queueName, maxAttempts: 10, backoffMs: 100 });
  const redis = createRedis(cfg.redis, { maxRetriesPerRequest: null });
  const server = await startServer(cfg, createLogger('silent'));
  const workers: WorkerProcess[] = [];
  const accepted: AcceptedJob[] = [];
  const enqueue = async (requests: unknown[]) => {
    const res = await producer.enqueueMany(requests);
    accepted.push(...res.jobIds.map((id, i) => ({ id, data: res.jobs[i]!, enqueuedAt: Date.now() })));
  };
  const counts = async () =>
    producer.queue.getJobCounts('completed', 'failed').catch(() => ({ completed: 0, failed: 0 }));
  const sendsKey = keys.budgetSends(budgetId(`uin:${DEMO_SUB_ACCOUNT_UIN}`, new URL(sim.url).host, SCAN_ACTION));
  const watch = watchSendLog(redis, sendsKey);
  try {
    await enqueue(workload(300, { firstPolicyItem: 7000 }));
    workers.push(startWorkerProcess(env), startWorkerProcess(env));
    await until(async () => ((await counts()).completed ?? 0) >= 80, 30_000, '80 jobs completed before the kill');

    const victim = await set.primaryFor(`{tcss-rescan}:${queueName}:wait`);
    const budgetNode = await set.primaryFor(sendsKey);
    const killAt = Date.now();
    await victim.kill('SIGKILL');
    await until(
      async () => (await set.primaryFor(`{tcss-rescan}:${queueName}:wait`).catch(() => victim)) !== victim,
      30_000,
      'a replica to take over the slot',
    );
    const promotedAt = Date.now();

    // The same producer and the same server, after the failover.
    await enqueue(workload(100, { firstPolicyItem: 8000 }));
    const viaApi = workload(40, { firstPolicyItem: 9000 });
    const res = await fetch(`${server.url}/v1/rescans`, {
      method: 'POST',
      headers: { authorization: `Bearer ${'s'.repeat(32)}`, 'content-type': 'application/json' },
      body: JSON.stringify(viaApi),
    });
    expect(res.status).toBe(202);
    const api = (await res.json()) as { jobIds: string[] };
    for (const id of api.jobIds) {
      const job = await producer.queue.getJob(id);
      accepted.push({ id, data: job!.data, enqueuedAt: Date.now() });
    }

    await until(
      async () => {
        const c = await counts();
        return (c.completed ?? 0) + (c.failed ?? 0) >= accepted.length;
      },
      60_000,
      `all ${accepted.length} jobs finished\n${workers.map((w) => w.output().slice(-2000)).join('\n')}`,
    );
    const firstOk = sim.calls().find((c) => c.code === 'OK' && c.arrivalMs > killAt)!.arrivalMs;
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    for (const w of workers) expect(w.child.exitCode).toBeNull();
    for (const w of workers) expect(w.output()).not.toMatch(/CROSSSLOT/);

    // The budget by Redis's clock: the sends it allowed, every 1000 ms, across the failover.
    const allowed = await watch.stop();
    const redisWorst = maxInWindow(allowed, 1000);
    const report = await checkFaultInvariant({
      scenario: 'Cluster failover (primary of the queue slot killed)',
      queue: producer.queue,
      redis,
      queueName,
      sim,
      accepted,
      windowAllowance: JITTER_ALLOWANCE,
      duplicatesExpected:
        'asynchronous replication: a job completed on the old primary but not yet replicated runs again on the new one',
      unrecordedExpected:
        'asynchronous replication: a record written to the old primary but not yet replicated is lost with it',
      recoveryMs: firstOk - killAt,
      recoveryWhat: 'primary killed to the next TaskId',
      notes: [
        `killed at +${(killAt - (sim.calls()[0]?.arrivalMs ?? killAt)).toFixed(0)}ms`,
        `budget by Redis's clock: worst 1-s window ${redisWorst}/20 over ${allowed.length} sends`,
        `replica took over after ${promotedAt - killAt} ms`,
        `budget keys ${budgetNode === victim ? 'on the killed primary too' : 'on another primary'}`,
      ],
    });
    recordSummary(report);
    expect(allowed.length).toBeGreaterThan(300);
    expect(redisWorst).toBeLessThanOrEqual(20);
    expectInvariant(report);
    expect(report.worstWindow).toBeLessThanOrEqual(20 + JITTER_ALLOWANCE.extra);
    expect(report.recoveryMs!).toBeLessThan(20_000);
  } finally {
    await watch.stop();
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await server.close().catch(() => undefined);
    await producer.close().catch(() => undefined);
    redis.disconnect();
    await sim.close();
    await set.stop();
  }
}, 120_000);
