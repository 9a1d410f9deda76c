/**
 * Redis Sentinel failover mid-run: one primary, one replica, three sentinels (quorum 2,
 * down-after-milliseconds 1000). Two worker processes are busy (calls take 150 ms at the simulator,
 * so calls are in flight) when the primary is killed (SIGKILL). Then:
 *
 * - workers, the HTTP server and the producer follow the new primary without a restart (the producer
 *   and the server enqueue more jobs after the failover, through the same objects);
 * - every job ends completed or failed, every TaskId is in the records unless its write was lost with
 *   the old primary (asynchronous replication: the replica may miss the last writes);
 * - the budget holds (never more than 20 arrivals in any 1000 ms, one arrival of jitter as everywhere
 *   in this suite) even in the worst case of a lost send log: right after the promotion the test
 *   deletes the send log on the new primary but keeps its marker, as if the replica had never received
 *   any of the last window's sends. It holds because a failover cannot be faster than
 *   down-after-milliseconds (>= 1000 + TCSS_WINDOW_GUARD_MS is the documented requirement): every send
 *   the replica missed left before the primary died, so it is out of the window before the first
 *   send through the new primary.
 *
 * Measured and printed: recovery time (kill to the next TaskId), duplicate calls (jobs whose completion
 * was lost with the old primary run again: their calls are repeated).
 */
import { loadConfig } from '../../src/config';
import { keys } from '../../src/keys';
import { budgetId } from '../../src/budget';
import { createLogger } from '../../src/logger';
import { RescanProducer } from '../../src/producer';
import { createRedis, queuePrefix } from '../../src/redisConnection';
import { startServer } from '../../src/server/run';
import { DEMO_SUB_ACCOUNT_UIN, maxInWindow, SCAN_ACTION, startSimulator } from '../../src/simulator';
import { JITTER_ALLOWANCE, until, workload } from '../support/faultHarness';
import { checkFaultInvariant, expectInvariant, recordSummary, type AcceptedJob } from '../support/faultInvariant';
import { uniqueName } from '../support/redis';
import { startSentinelSet } from '../support/redisTopology';
import { watchSendLog } from '../support/sendLogWatch';
import { startWorkerProcess, type WorkerProcess } from '../support/workerProcess';

test('Sentinel: primary killed with workers busy; everyone follows the new primary, jobs finish, budget holds', async () => {
  const set = await startSentinelSet({ downAfterMs: 1000 });
  const sim = await startSimulator({ port: 0, latencyMs: 150 });
  const queueName = uniqueName('fault-sentinel');
  const env = {
    REDIS_SENTINELS: set.sentinelList,
    REDIS_SENTINEL_NAME: set.name,
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

    const oldPort = set.primary.port;
    const killAt = Date.now();
    await set.primary.kill('SIGKILL');
    await until(
      async () => (await set.currentPrimaryPort().catch(() => oldPort)) === set.replica.port,
      30_000,
      'the sentinels to promote the replica',
    );
    const promotedAt = Date.now();
    // Worst case: the replica never got any of the last window's sends (the marker it has).
    const promoted = createRedis(loadConfig({ REDIS_URL: `redis://127.0.0.1:${set.replica.port}` }).redis, {
      maxRetriesPerRequest: 1,
    });
    const lostSends = await promoted.zcard(sendsKey);
    await promoted.del(sendsKey);
    promoted.disconnect();

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
      // The producer's connections fail fast (no offline queue): a read while they reconnect to the new
      // primary throws at once, so the test asks again.
      const job = await until(
        async () => producer.queue.getJob(id).catch(() => undefined),
        30_000,
        `job ${id} readable`,
      );
      accepted.push({ id, data: job.data, enqueuedAt: Date.now() });
    }

    // Asynchronous replication: a job's last writes on the old primary (even its hash, seen as BullMQ's
    // "Missing key for job") can be lost with it. Such jobs no longer exist anywhere; every job that
    // does must end completed or failed. The lost ones are counted and reported (docs/production-redis.md).
    const lostJobs = async () => {
      const exists = await Promise.all(
        accepted.map((a) => redis.exists(`${queuePrefix(cfg.redis)}:${queueName}:${a.id}`)),
      );
      return accepted.filter((_, i) => exists[i] === 0).map((a) => a.id);
    };
    let lost: string[] = [];
    // On a timeout: every job not finished, with its lock and what the workers logged about it.
    const diagnose = async () => {
      const out: string[] = [];
      for (const a of accepted) {
        const job = await producer.queue.getJob(a.id).catch(() => undefined);
        const state = job ? await job.getState().catch(() => 'unknown') : 'missing';
        if (state === 'completed' || state === 'failed') continue;
        const lockTtl = await redis.pttl(`${queuePrefix(cfg.redis)}:${queueName}:${a.id}:lock`).catch(() => NaN);
        const said = workers.flatMap((w, i) =>
          w.logs
            .filter((l) => String(l.jobId) === a.id || JSON.stringify(l.err ?? '').includes(`job ${a.id}.`))
            .map(
              (l) => `w${i}: ${String(l.msg)} ${String((l.err as { message?: string } | undefined)?.message ?? '')}`,
            ),
        );
        out.push(
          `job ${a.id}: ${state}, attempts ${job?.attemptsMade ?? '?'}, lock ttl ${lockTtl}; ${said.slice(-4).join(' | ')}`,
        );
      }
      const replication = await redis.info('replication').catch((e: Error) => e.message);
      return [
        ...out.slice(0, 20),
        `${out.length} unfinished; new primary: ${replication.replace(/\s+/g, ' ').slice(0, 200)}`,
      ].join('\n');
    };
    await until(
      async () => {
        const c = await counts();
        const finished = (c.completed ?? 0) + (c.failed ?? 0);
        if (finished < accepted.length - 10) return false;
        lost = await lostJobs().catch(() => lost);
        return finished + lost.length >= accepted.length;
      },
      60_000,
      `all ${accepted.length} jobs finished`,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await diagnose()}`);
    });
    expect(lost.length).toBeLessThanOrEqual(5);
    const kept = accepted.filter((a) => !lost.includes(a.id));
    const firstOk = sim.calls().find((c) => c.code === 'OK' && c.arrivalMs > killAt)!.arrivalMs;
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    for (const w of workers) expect(w.child.exitCode).toBeNull();

    // The budget by Redis's clock: the sends it allowed, every 1000 ms, across the failover.
    const allowed = await watch.stop();
    const redisWorst = maxInWindow(allowed, 1000);
    const report = await checkFaultInvariant({
      scenario: 'Sentinel failover (primary killed, send log lost)',
      queue: producer.queue,
      redis,
      queueName,
      sim,
      accepted: kept,
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
        `promotion after ${promotedAt - killAt} ms`,
        `send log deleted on the new primary (${lostSends} entries)`,
        `jobs lost with the old primary's unreplicated writes: ${lost.length}`,
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
