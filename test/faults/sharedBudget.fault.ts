/**
 * The budget shared with another consumer of the same key (console, another service): the simulator
 * spends 8 of the 20 req/s in the background. The workers cannot see it until the API throttles them;
 * then the cluster's rate is cut (src/budget/adaptiveRate.ts) and throttled calls are called again without
 * using up attempts. Every job completes once; the API never admits more than 20 in any second.
 */
import { FaultEnv, workload } from '../support/faultHarness';
import { expectInvariant } from '../support/faultInvariant';

const BACKGROUND_RPS = 8;

test('the budget shared with another consumer (8 req/s): every job completes once, throttles cost no attempts', async () => {
  const env = await FaultEnv.start({ scenario: `budget shared with another consumer (${BACKGROUND_RPS} req/s)`, sim: { backgroundRps: BACKGROUND_RPS } });
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
    // The API admitted at most the limit in any second, the other consumer's calls included.
    expect(report.worstWindowWithBackground).toBeLessThanOrEqual(20);
    // Throttled calls were called again through the budget, not retried as failed attempts.
    for (const a of env.accepted) expect((await env.producer.queue.getJob(a.id))!.attemptsMade).toBeLessThanOrEqual(1);
  } finally {
    await env.close();
  }
});
