/**
 * README, Guarantees: a rescan ends as "a failed job with a clear reason: ... the last transient error
 * after `TCSS_MAX_ATTEMPTS`". End to end: a worker process (the built CLI), its own redis-server and the
 * simulator, which answers a transient error every time: `InternalError` for one check item, or no
 * answer at all (a call that times out).
 *
 * Workers are stopped with SIGTERM before the environment closes (which would SIGKILL them), so that
 * their coverage is written (see test/support/coverage.js).
 */
import type { Job } from 'bullmq';
import type { RescanResult } from '../../src/job';
import { FaultEnv } from '../support/faultHarness';

jest.setTimeout(60_000);

const ATTEMPTS = 3;
const DOOMED_ITEM = 1313;
const HEALTHY_ITEM = 1314;

/** `failedReason` as the worker writes it for an API answer: `<code>: <message> (RequestId <id>)`. */
const reasonFor = (call: { code: string; message?: string; requestId: string }) =>
  `${call.code}: ${call.message ?? call.code} (RequestId ${call.requestId})`;

test(`InternalError every time: the job fails after exactly ${ATTEMPTS} calls (TCSS_MAX_ATTEMPTS), with the last answer as its reason; no other job fails`, async () => {
  const env = await FaultEnv.start({
    scenario: 'attempts exhausted',
    sim: { forcedErrors: { [String(DOOMED_ITEM)]: 'InternalError' } },
    maxAttempts: ATTEMPTS,
    backoffMs: 50,
    // One call per attempt, so that calls count attempts.
    workerEnv: { TCSS_COALESCE: 'false' },
  });
  try {
    const [doomed] = await env.enqueue([{ policyItemId: DOOMED_ITEM, assetIds: [1] }]);
    const healthy = await env.enqueue(
      Array.from({ length: 6 }, (_, i) => ({ policyItemId: HEALTHY_ITEM, assetIds: [100 + i] })),
    );
    const worker = env.startWorker();
    await env.waitForDrain(40_000);
    expect(await env.counts()).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
      prioritized: 0,
      completed: healthy.length,
      failed: 1,
    });

    const job = (await env.producer.queue.getJob(doomed!.id)) as Job<unknown, RescanResult>;
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(ATTEMPTS);
    // Every call for it was answered InternalError, one per attempt: it was neither given up early
    // (a transient code taken for a permanent one) nor called beyond its attempts.
    const calls = env.sim.calls().filter((c) => c.policyItemId === DOOMED_ITEM && c.code !== 'RequestLimitExceeded');
    expect(calls.map((c) => c.code)).toEqual(Array(ATTEMPTS).fill('InternalError'));
    // The reason is the last answer, with its RequestId, not a generic "attempts exhausted".
    expect(job.failedReason).toBe(reasonFor(calls[calls.length - 1]!));

    // The worker said so: retried after each attempt but the last, then failed for good.
    const verdicts = worker.logs
      .filter((l) => l.jobId === doomed!.id && (l.msg === 'job will be retried' || l.msg === 'job failed'))
      .map((l) => [l.attempt, l.final]);
    expect(verdicts).toEqual([...Array.from({ length: ATTEMPTS - 1 }, (_, i) => [i + 1, false]), [ATTEMPTS, true]]);

    // Nothing else failed or was retried: the other item's jobs completed at their first attempt.
    for (const { id } of healthy) {
      const done = (await env.producer.queue.getJob(id)) as Job<unknown, RescanResult>;
      expect([await done.getState(), done.attemptsMade]).toEqual(['completed', 1]);
      expect(env.sim.calls().find((c) => c.taskId === done.returnvalue.taskId)?.assetIds).toEqual(
        (done.data as { assetIds: number[] }).assetIds,
      );
    }
    expect(await worker.stop('SIGTERM')).toBe(0);
  } finally {
    await env.close();
  }
});

test('no answer every time (TCSS_TIMEOUT_MS): the job fails after exactly its attempts, with Timeout as its reason', async () => {
  const env = await FaultEnv.start({
    scenario: 'attempts exhausted by timeouts',
    sim: { hangRate: 1 },
    maxAttempts: 2,
    backoffMs: 50,
  });
  try {
    const [job] = await env.enqueue([{ policyItemId: 1315, assetIds: [7] }]);
    const worker = env.startWorker({ TCSS_TIMEOUT_MS: '400' });
    await env.waitForDrain(30_000);
    const failed = (await env.producer.queue.getJob(job!.id))!;
    expect([await failed.getState(), failed.attemptsMade]).toEqual(['failed', 2]);
    expect(failed.failedReason).toMatch(/^Timeout: /);
    // Both calls reached the API (each may have created a task: README, "What we do not guarantee").
    expect(env.sim.calls().map((c) => [c.policyItemId, c.hung])).toEqual([
      [1315, true],
      [1315, true],
    ]);
    expect(await worker.stop('SIGTERM')).toBe(0);
  } finally {
    await env.close();
  }
});
