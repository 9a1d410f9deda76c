/**
 * An API that misbehaves while reachable:
 *  - 30% of calls answered InternalError (transient: retried with backoff; attempts suffice), with one
 *    check item whose calls always fail permanently (ResourceNotFound: those jobs fail at once, with the
 *    code and the RequestId, and only those; ResourceNotFound may be about one member, so their merged
 *    calls are split down to single jobs first: more ResourceNotFound answers than jobs);
 *  - calls that never answer (10%), with TCSS_TIMEOUT_MS 1000: the worker gives up and retries. A call
 *    that never answered may still have created a task (the simulator issues its TaskId, as when a
 *    response is lost), so these jobs can be sent twice: the duplicates are counted, each must follow
 *    an unanswered call, and none may follow a call whose TaskId was recorded.
 */
import { FaultEnv, workload } from '../support/faultHarness';
import { expectInvariant, isPermanentReason } from '../support/faultInvariant';

test('30% InternalError: transient errors are retried until they succeed; permanent ones fail at once with the reason', async () => {
  const env = await FaultEnv.start({
    scenario: '30% InternalError (+ one item ResourceNotFound)',
    sim: { errorRate: 0.3, forcedErrors: { '4040': 'ResourceNotFound' } },
    maxAttempts: 10,
    backoffMs: 100,
  });
  try {
    await env.enqueue(workload(300));
    const doomed = await env.enqueue(workload(10, { policyItems: 1, firstPolicyItem: 4040 }));
    env.startWorker();
    env.startWorker();
    const drainMs = await env.waitForDrain(120_000);
    const stats = env.sim.stats();
    const report = await env.check({
      recoveryMs: drainMs,
      recoveryWhat: 'time to drain',
      notes: [
        `InternalError answers ${stats.byCode.InternalError ?? 0}`,
        `ResourceNotFound answers ${stats.byCode.ResourceNotFound ?? 0}`,
      ],
    });
    expectInvariant(report);
    expect(stats.byCode.InternalError ?? 0).toBeGreaterThan(0);
    expect(report.failed).toBe(doomed.length);
    expect(report.duplicateJobs).toBe(0);
    for (const a of doomed) {
      const job = (await env.producer.queue.getJob(a.id))!;
      expect(job.failedReason).toMatch(/^ResourceNotFound: .* \(RequestId [0-9a-f-]{36}\)$/);
      expect(isPermanentReason(job.failedReason)).toBe(true);
      expect(job.attemptsMade).toBe(1);
    }
  } finally {
    await env.close();
  }
});

test('calls that never answer (10%, timeout 1 s): jobs are retried and complete; duplicates only after unanswered calls', async () => {
  const env = await FaultEnv.start({
    scenario: 'calls that never answer (10%, TCSS_TIMEOUT_MS 1000)',
    sim: { hangRate: 0.1 },
    maxAttempts: 10,
    backoffMs: 100,
    workerEnv: { TCSS_TIMEOUT_MS: '1000' },
  });
  try {
    await env.enqueue(workload(300));
    env.startWorker();
    env.startWorker();
    const drainMs = await env.waitForDrain(120_000);
    const report = await env.check({
      duplicatesExpected:
        'a call that never answered may have created a task; after the timeout its jobs were called again',
      recoveryMs: drainMs,
      recoveryWhat: 'time to drain',
      notes: [
        `unanswered calls that had created a task ${env.sim.calls().filter((c) => c.hung && c.code === 'OK').length}`,
      ],
    });
    expectInvariant(report);
    expect(report.hung).toBeGreaterThan(0);
    expect(report.failed).toBe(0);
  } finally {
    await env.close();
  }
});
