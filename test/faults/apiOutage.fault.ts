/**
 * The API unreachable for 30 s in the middle of a run (every connection refused at once, as when the
 * endpoint or the network is down), then back. Network errors are transient: jobs are retried with
 * exponential backoff, and the attempts on the jobs (TCSS_MAX_ATTEMPTS 12, TCSS_BACKOFF_MS 250: at
 * least 125 * (2^11 - 1) ms = 256 s of backoff before the last attempt) outlast the outage, so nothing
 * fails. The price is time: a job that backed off just before the API came back waits out its delay.
 */
import { FaultEnv, sleep, until, workload } from '../support/faultHarness';
import { expectInvariant } from '../support/faultInvariant';

const OUTAGE_MS = 30_000;
const MAX_ATTEMPTS = 12;

test('the API unreachable for 30 s, then back: every job completes once, none fails, budget held', async () => {
  const env = await FaultEnv.start({ scenario: 'API unreachable for 30 s', maxAttempts: MAX_ATTEMPTS, backoffMs: 250 });
  try {
    await env.enqueue(workload(300));
    const workers = [env.startWorker(), env.startWorker()];
    await until(async () => (await env.counts()).completed >= 40, 30_000, '40 jobs completed');
    env.sim.setFaults({ unreachable: true });
    const completedBefore = (await env.counts()).completed;
    await sleep(OUTAGE_MS);
    const during = await env.counts();
    env.sim.setFaults({ unreachable: false });
    const backAt = Date.now();
    // Nothing completed or failed while the API was away (a call answered just before may have landed).
    expect(during.failed).toBe(0);
    expect(during.completed - completedBefore).toBeLessThanOrEqual(10);
    expect(env.sim.stats().dropped).toBeGreaterThan(0);

    const drainMs = await env.waitForDrain(120_000);
    const firstOk = env.firstOkCallAfter(backAt);
    for (const w of workers) expect(w.child.exitCode).toBeNull();
    let maxAttempts = 0;
    for (const a of env.accepted)
      maxAttempts = Math.max(maxAttempts, (await env.producer.queue.getJob(a.id))?.attemptsMade ?? 0);
    const report = await env.check({
      recoveryMs: drainMs,
      recoveryWhat: `API back to backlog drained; first TaskId after ${firstOk !== undefined ? ((firstOk - backAt) / 1000).toFixed(1) : '?'} s`,
      notes: [
        `requests refused while down ${env.sim.stats().dropped}`,
        `most attempts used by a job ${maxAttempts} of ${MAX_ATTEMPTS}`,
      ],
    });
    expectInvariant(report);
    expect(report.failed).toBe(0);
    expect(report.duplicateJobs).toBe(0);
    expect(maxAttempts).toBeLessThan(MAX_ATTEMPTS);
  } finally {
    await env.close();
  }
});
