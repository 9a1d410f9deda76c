/**
 * A real network between the workers and the API: the simulator delays every arrival by a random
 * 0–40 ms and counts refused arrivals toward its window, as the real API does. Calls that leave evenly
 * arrive unevenly, so some are refused although we never sent more than the limit. The controller
 * (src/budget/adaptiveRate.ts) sees from our own send log that we sent the limit, so it widens the
 * send-time guard instead of cutting the rate; refused calls go through the budget again without using
 * attempts. Every job completes once; at most one arrival over the limit in any second (the refused one).
 */
import { keys } from '../../src/keys';
import { FaultEnv, workload } from '../support/faultHarness';
import { expectInvariant } from '../support/faultInvariant';

const JITTER_MS = 40;
const START_GUARD_MS = 25;

test('arrival jitter 0–40 ms, refused arrivals counted: every job completes once, the guard widens, throttles cost no attempts', async () => {
  const env = await FaultEnv.start({
    scenario: `arrival jitter 0-${JITTER_MS} ms`,
    sim: { arrivalJitterMs: JITTER_MS, countThrottled: true },
    // One call per job, so that the budget, not merging, sets the pace for long enough to be refused.
    workerEnv: { TCSS_COALESCE: 'false', TCSS_WINDOW_GUARD_MS: String(START_GUARD_MS) },
  });
  try {
    await env.enqueue(workload(500));
    env.startWorker();
    env.startWorker();
    const drainMs = await env.waitForDrain(180_000);
    const calls = env.sim.calls();
    const throttled = calls.filter((c) => c.code === 'RequestLimitExceeded').length;
    const state = await env.redis.hgetall(keys.budgetRate(env.budgetKey));
    const report = await env.check({
      recoveryMs: drainMs,
      recoveryWhat: 'time to drain',
      notes: [
        `throttled ${throttled} of ${calls.length} calls`,
        `guard at end ${Number(state.guard).toFixed(1)} ms`,
        `rate at end ${Number(state.rate).toFixed(2)}`,
      ],
    });
    expectInvariant(report);
    expect(report.failed).toBe(0);
    expect(report.duplicateJobs).toBe(0);
    for (const a of env.accepted) expect((await env.producer.queue.getJob(a.id))!.attemptsMade).toBeLessThanOrEqual(1);
    // P(refused) per call is ((40 - 25) / 40)^2 / 2 = 7% at the starting guard: it was refused, and
    // it was diagnosed as our own timing (guard wider), not as another consumer (rate kept near the limit).
    expect(throttled).toBeGreaterThan(0);
    expect(Number(state.guard)).toBeGreaterThan(START_GUARD_MS);
    expect(Number(state.rate)).toBeGreaterThanOrEqual(19);
    // The share refused stays small: the guard widens within a few refusals.
    expect(throttled).toBeLessThan(0.05 * calls.length);
  } finally {
    await env.close();
  }
});
