/**
 * kill -9 of a worker process while its calls are in flight. Its jobs stay `active` with a lock nobody
 * renews; once the lock expires (LOCK_DURATION_MS, 6 s) a stalled check (every STALLED_INTERVAL_MS, 1.5 s,
 * src/worker/bullOptions.ts) moves them back to waiting and another worker runs them again: within about 7.5 s
 * of the kill, plus their calls (docs/budget.md). A job whose call was recorded before the kill completes from its
 * record (no second call); a call whose answer arrived after the kill was lost, so its jobs are called
 * again: those duplicates are the price of the crash, counted and reported.
 */
import { FaultEnv, sleep, until, workload } from '../support/faultHarness';
import { expectInvariant } from '../support/faultInvariant';

const LATENCY_MS = 300;

test('kill -9 of a worker with calls in flight: its stalled jobs are recovered by the other and a new worker, none lost, budget held', async () => {
  const env = await FaultEnv.start({
    scenario: 'kill -9 of a worker with calls in flight',
    sim: { latencyMs: LATENCY_MS },
  });
  try {
    await env.enqueue(workload(400));
    const victim = env.startWorker();
    const survivor = env.startWorker();
    await until(async () => (await env.counts()).completed >= 60, 30_000, '60 jobs completed');
    // Calls are in flight: each takes LATENCY_MS and the budget starts one every ~51 ms.
    await until(() => env.sim.calls().some((c) => c.arrivalMs > Date.now() - LATENCY_MS / 2), 5_000, 'calls in flight');
    const killedAt = Date.now();
    const inFlight = env.sim.calls().filter((c) => c.arrivalMs > killedAt - LATENCY_MS).length;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    const activeAtKill = (await env.counts()).active;
    // A replacement comes up, as an orchestrator would start one.
    await sleep(1000);
    env.startWorker();

    await env.waitForDrain(120_000);
    expect(survivor.child.exitCode).toBeNull();

    // Jobs BullMQ moved back from the dead worker (HINCRBY stc on a stalled job).
    const recovered: number[] = [];
    for (const a of env.accepted) {
      const stc = Number(await env.redis.hget(`bull:${env.queueName}:${a.id}`, 'stc'));
      if (stc > 0) {
        const job = await env.producer.queue.getJob(a.id);
        recovered.push(job?.finishedOn ?? Date.now());
      }
    }
    const recoveryMs = recovered.length > 0 ? Math.max(...recovered) - killedAt : undefined;
    const report = await env.check({
      duplicatesExpected:
        'calls in flight in the killed process got TaskIds whose answers died with it; their jobs were called again',
      unrecordedExpected: 'answers that arrived after the kill had no process left to record them',
      ...(recoveryMs !== undefined ? { recoveryMs } : {}),
      recoveryWhat: 'kill to the last stalled job completed',
      notes: [
        `stalled jobs recovered ${recovered.length}`,
        `calls in flight at the kill ~${inFlight}`,
        `active at the kill ${activeAtKill}`,
      ],
    });
    expectInvariant(report);
    expect(recovered.length).toBeGreaterThan(0);
    expect(report.failed).toBe(0);
  } finally {
    await env.close();
  }
});
