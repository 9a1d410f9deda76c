/**
 * The API refuses the credentials in the middle of a run: the key revoked (AuthFailure.SecretIdNotFound),
 * or this machine's clock a few minutes off (AuthFailure.SignatureExpire; simulated by the simulator's
 * clock offset). Every worker stops taking jobs and says so loudly (a fatal log line); the backlog waits
 * in the queue, untouched (no attempt used, nothing failed, no further calls). Once the cause is fixed,
 * restarting the workers drains it.
 */
import { DEMO_SECRET_ID, type SimulatorFaults } from '../../src/simulator';
import { queueStatus } from '../../src/status';
import { FaultEnv, sleep, until, workload } from '../support/faultHarness';
import { expectInvariant } from '../support/faultInvariant';

interface PauseCase {
  scenario: string;
  fault: SimulatorFaults;
  fixed: SimulatorFaults;
  code: string;
  /** How the fatal line starts. */
  message: string;
}

async function pauseThenDrain(c: PauseCase): Promise<void> {
  const env = await FaultEnv.start({ scenario: c.scenario });
  try {
    await env.enqueue(workload(300));
    const first = [env.startWorker(), env.startWorker()];
    await until(async () => (await env.counts()).completed >= 40, 30_000, '40 jobs completed');
    env.sim.setFaults(c.fault);
    const faultAt = Date.now();

    // Every worker stops, with a fatal line that says why.
    for (const w of first) {
      const fatal = await w.waitForLog(
        (l) => l.level === 60 && typeof l.msg === 'string' && l.msg.startsWith(c.message),
        20_000,
      );
      expect(fatal.code).toBe(c.code);
    }
    const pausedMs = Date.now() - faultAt;
    // Jobs the workers held go back to waiting: those queued for the budget when the worker paused
    // each wait for their slot (one per ~51 ms), see that the worker paused, and go back uncalled.
    await until(async () => (await env.counts()).active === 0, 30_000, 'every held job back in the queue');
    const backMs = Date.now() - faultAt;
    const calls = env.sim.calls().length;
    const held = await env.counts();
    await sleep(3000);
    // Nothing moves: no calls, nothing failed, nothing active, the backlog waiting.
    expect(env.sim.calls().length).toBe(calls);
    const still = await env.counts();
    expect(still).toEqual(held);
    expect(still.failed).toBe(0);
    expect(still.active).toBe(0);
    expect(still.waiting + still.prioritized + still.delayed).toBe(env.accepted.length - still.completed);
    const status = await queueStatus(env.producer.queue, env.redis);
    expect(Object.values(status.pausedWorkers).map((p) => p.code)).toEqual([c.code, c.code]);
    for (const a of env.accepted) {
      const job = (await env.producer.queue.getJob(a.id))!;
      if (!job.finishedOn) expect(job.attemptsMade).toBe(0);
    }
    for (const w of first) expect(w.child.exitCode).toBeNull();

    // Fixed (new key / clock synced), workers restarted: the backlog drains.
    env.sim.setFaults(c.fixed);
    for (const w of first) expect(await w.stop('SIGTERM')).toBe(0);
    const restartAt = Date.now();
    env.startWorker();
    env.startWorker();
    await env.waitForDrain(90_000);
    const report = await env.check({
      recoveryMs: Date.now() - restartAt,
      recoveryWhat: 'workers restarted to backlog drained',
      notes: [
        `every worker paused within ${(pausedMs / 1000).toFixed(1)} s`,
        `held jobs back to waiting within ${(backMs / 1000).toFixed(1)} s`,
        `backlog held ${env.accepted.length - held.completed} jobs`,
      ],
    });
    expectInvariant(report);
    expect(report.failed).toBe(0);
    expect(report.duplicateJobs).toBe(0);
    expect(Object.keys((await queueStatus(env.producer.queue, env.redis)).pausedWorkers)).toHaveLength(0);
  } finally {
    await env.close();
  }
}

test('credentials revoked mid-run: consumption pauses, the backlog waits, nothing fails; restored key + restart drains it', async () => {
  await pauseThenDrain({
    scenario: 'credentials revoked mid-run',
    fault: { revokedSecretIds: [DEMO_SECRET_ID] },
    fixed: { revokedSecretIds: [] },
    code: 'AuthFailure.SecretIdNotFound',
    message: 'CREDENTIALS REFUSED',
  });
});

test("the worker's clock 6 minutes off: SignatureExpire is reported as CLOCK OFF, nothing fails, the backlog waits", async () => {
  await pauseThenDrain({
    scenario: 'worker clock 6 min off (SignatureExpire)',
    fault: { clockOffsetMs: 6 * 60_000 },
    fixed: { clockOffsetMs: 0 },
    code: 'AuthFailure.SignatureExpire',
    message: 'CLOCK OFF',
  });
});
