/**
 * Redis killed (SIGKILL) and started again in the middle of a run, with and without persistence.
 *
 * With append-only persistence (appendfsync always) nothing acknowledged is lost: the queue, the records
 * and the limiter's keys come back, and the run simply goes on.
 *
 * Without persistence everything in Redis is gone: the queue (jobs, ids: they restart at 1), the TaskId
 * records, and the shared budget's state (Bottleneck's keys, the adaptive rate, the send log). What we
 * can and do promise then (docs/guarantees.md, "What we do not guarantee"): jobs accepted before the restart are lost with
 * the queue (counted: how many had been called), but the workers keep running without a restart, the
 * budget rebuilds itself within seconds (Bottleneck's keys are recreated, src/budget/bottleneckConnection.ts)
 * and keeps to the limit across the restart, and every job accepted after the restart completes with
 * its TaskId recorded. The scenario restarts Redis three times: whether calls in flight at the moment
 * of a restart line up to exceed the limit is a matter of timing, and three chances catch it reliably.
 */
import { FaultEnv, until, workload } from '../support/faultHarness';
import { expectInvariant, type AcceptedJob } from '../support/faultInvariant';

/** How long the budget may take to rebuild itself after Redis comes back. */
const RECOVERY_LIMIT_MS = 10_000;

async function restart(env: FaultEnv): Promise<{ downAt: number; upAt: number; lastSeqBefore: number }> {
  const downAt = Date.now();
  await env.redisServer.restart(true);
  const upAt = Date.now();
  return { downAt, upAt, lastSeqBefore: env.sim.calls().at(-1)?.seq ?? 0 };
}

/** Calls per second answered OK from `fromMs` to the last OK call. */
function okRate(env: FaultEnv, fromMs: number): number {
  const ok = env.sim.calls().filter((c) => c.code === 'OK' && c.arrivalMs >= fromMs);
  if (ok.length < 2) return 0;
  return (ok.length - 1) / ((ok.at(-1)!.arrivalMs - ok[0]!.arrivalMs) / 1000);
}

const completedAtLeast = (env: FaultEnv, n: number) =>
  until(async () => (await env.counts().catch(() => ({ completed: 0 }))).completed >= n, 30_000, `${n} jobs completed`);

test('Redis restarted with persistence (appendonly): the run goes on, nothing lost or sent twice, budget held', async () => {
  const env = await FaultEnv.start({ scenario: 'Redis restarted mid-run, with persistence', appendonly: true });
  try {
    await env.enqueue(workload(400));
    const workers = [env.startWorker(), env.startWorker()];
    await completedAtLeast(env, 60);
    const { upAt, downAt } = await restart(env);
    await env.waitForDrain(90_000);
    const firstOk = await until(
      () => env.firstOkCallAfter(upAt),
      RECOVERY_LIMIT_MS,
      'a successful call after the restart',
    );
    for (const w of workers) expect(w.child.exitCode).toBeNull();
    const report = await env.check({
      recoveryMs: Math.max(0, firstOk - upAt),
      recoveryWhat: 'Redis back to the next TaskId',
      notes: [`Redis down ${upAt - downAt} ms`, `rate after the restart ${okRate(env, upAt).toFixed(1)}/s`],
    });
    expectInvariant(report);
    expect(report.failed).toBe(0);
    expect(report.duplicateJobs).toBe(0);
    expect(report.recoveryMs!).toBeLessThan(RECOVERY_LIMIT_MS);
  } finally {
    await env.close();
  }
});

test('Redis restarted without persistence (3 times): the workers and the budget recover on their own; every job accepted after the restart completes', async () => {
  const env = await FaultEnv.start({
    scenario: 'Redis restarted mid-run 3 times, without persistence',
    appendonly: false,
  });
  try {
    const lost: AcceptedJob[] = await env.enqueue(workload(300));
    const workers = [env.startWorker(), env.startWorker()];
    await completedAtLeast(env, 60);
    const recoveries: number[] = [];
    let last = await restart(env);
    for (let round = 1; ; round++) {
      // Everything is gone: not one of the jobs accepted before is left.
      expect(await env.redis.exists(...env.accepted.map((a) => `bull:${env.queueName}:${a.id}`))).toBe(0);
      env.accepted.length = 0;
      // The service that enqueues carries on: new rescans, on the same queue, to the same workers.
      const batch = await env.enqueue(workload(300));
      const firstOk = await until(
        () => env.firstOkCallAfter(last.upAt),
        RECOVERY_LIMIT_MS,
        'a successful call after the restart',
      );
      recoveries.push(firstOk - last.upAt);
      if (round === 3) break;
      lost.push(...batch);
      await completedAtLeast(env, 40);
      last = await restart(env);
    }
    await env.waitForDrain(90_000);
    // Bottleneck recreated its keys by itself (the stock connection on Redis 7 would reject every call).
    expect(await env.redis.exists(`b_${env.budgetKey}_settings`)).toBe(1);
    for (const w of workers) expect(w.child.exitCode).toBeNull();
    expect(env.workers).toHaveLength(2);

    const report = await env.check({
      lost,
      recordedFromSeq: last.lastSeqBefore,
      recoveryMs: Math.max(...recoveries),
      recoveryWhat: 'worst of 3: Redis back to the next TaskId, same worker processes',
      notes: [`rate after the last restart ${okRate(env, last.upAt).toFixed(1)}/s`],
    });
    expectInvariant(report);
    expect(report.failed).toBe(0);
    expect(report.duplicateJobs).toBe(0);
    expect(report.recoveryMs!).toBeLessThan(RECOVERY_LIMIT_MS);
  } finally {
    await env.close();
  }
});
