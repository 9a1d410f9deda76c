/**
 * The budget shared with another consumer of the same key (console, another service): the simulator
 * spends 8 of the 20 req/s in the background. The workers cannot see it until the API throttles them;
 * then the cluster's rate is cut (src/budget/adaptiveRate.ts) and throttled calls are called again without
 * using up attempts. Every job completes once. Counted by arrival (refused calls included, as the API
 * counts them): our calls never spend more than the limit, and once the controller has cut, they leave
 * the other consumer its share. The simulator's own limiter never admits more than 20, so counting what
 * it admitted would prove nothing.
 */
import { maxInWindow } from '../../src/simulator';
import { FaultEnv, JITTER_ALLOWANCE, workload } from '../support/faultHarness';
import { expectInvariant } from '../support/faultInvariant';

const BACKGROUND_RPS = 8;

test('the budget shared with another consumer (8 req/s): every job completes once, throttles cost no attempts', async () => {
  const env = await FaultEnv.start({
    scenario: `budget shared with another consumer (${BACKGROUND_RPS} req/s)`,
    sim: { backgroundRps: BACKGROUND_RPS },
  });
  try {
    await env.enqueue(workload(300));
    env.startWorker();
    env.startWorker();
    const drainMs = await env.waitForDrain(120_000);
    const ok = env.sim.calls().filter((c) => c.code === 'OK');
    const ourRate = ok.length > 1 ? (ok.length - 1) / ((ok.at(-1)!.arrivalMs - ok[0]!.arrivalMs) / 1000) : 0;
    const report = await env.check({
      recoveryMs: drainMs,
      recoveryWhat: 'time to drain',
      notes: [`our rate ${ourRate.toFixed(1)}/s beside ${BACKGROUND_RPS}/s`],
    });
    expectInvariant(report);
    expect(report.failed).toBe(0);
    expect(report.duplicateJobs).toBe(0);
    const calls = env.sim.calls();
    const refused = calls.filter((c) => c.code.startsWith('RequestLimitExceeded'));
    // The other consumer was there: it spent its share, and our first calls (at the full 20/s) met it.
    expect(env.sim.stats().background.arrivals).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    // Our arrivals, refused ones included: never more than the limit in any second.
    expect(
      maxInWindow(
        calls.map((c) => c.arrivalMs),
        1000,
      ),
    ).toBeLessThanOrEqual(20 + JITTER_ALLOWANCE.extra);
    // The controller found what is left. Without it about 40 % of our calls would be refused (97 % when
    // refused calls count, README "Performance"); with it, a handful while it cuts and probes.
    expect(refused.length).toBeLessThanOrEqual(Math.max(25, Math.ceil(calls.length * 0.15)));
    // It cuts at most once per 1000 + guard ms, from what it sent: after 4 s it has, and our arrivals leave
    // the other consumer its 8 (20 - 8 = 12/s, and up to 3 more: a probe near the ceiling plus jitter).
    const settled = calls.filter((c) => c.arrivalMs >= refused[0]!.arrivalMs + 4000);
    expect(settled.length).toBeGreaterThan(0);
    expect(
      maxInWindow(
        settled.map((c) => c.arrivalMs),
        1000,
      ),
    ).toBeLessThanOrEqual(20 - BACKGROUND_RPS + 3);
    // Throttled calls were called again through the budget, not retried as failed attempts.
    for (const a of env.accepted) expect((await env.producer.queue.getJob(a.id))!.attemptsMade).toBeLessThanOrEqual(1);
  } finally {
    await env.close();
  }
});
