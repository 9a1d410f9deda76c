/**
 * Assets that do not exist, among a merged backlog (issue 8.3): the simulator refuses every call naming
 * one of them, whole (InvalidParameterValue), as the real API does. Merged calls so refused are split
 * and called again (bisect), so only the jobs holding a bad asset fail, each with the API's code,
 * message and RequestId; every other job completes, at a cost of about 2*log2(call size) more calls per
 * bad asset.
 */
import { FaultEnv, workload } from '../support/faultHarness';
import { expectInvariant, isPermanentReason } from '../support/faultInvariant';

test('bad assets in merged calls: only their jobs fail, with code, message and RequestId; the rest complete', async () => {
  // Four check items (eight coalescing keys): with the backlog, calls merge dozens of jobs.
  const requests = workload(300, { policyItems: 4 });
  // Three assets, spread over the backlog, that the API does not know.
  const bad = [requests[10]!.assetIds[0]!, requests[150]!.assetIds[0]!, requests[290]!.assetIds[0]!];
  const env = await FaultEnv.start({ scenario: 'bad assets in merged calls (bisect)', sim: { missingAssetIds: bad } });
  try {
    await env.enqueue(requests);
    env.startWorker();
    env.startWorker();
    const drainMs = await env.waitForDrain(120_000);
    const calls = env.sim.calls();
    const refused = calls.filter((c) => c.code === 'InvalidParameterValue');
    const report = await env.check({
      recoveryMs: drainMs,
      recoveryWhat: 'time to drain',
      notes: [
        `refused calls ${refused.length} for ${bad.length} bad assets`,
        `largest refused call ${Math.max(...refused.map((c) => c.assetIds!.length))} assets`,
      ],
    });
    expectInvariant(report);
    // Exactly the jobs holding a bad asset failed, each at its first attempt with the API's reason.
    const doomed = env.accepted.filter((a) => a.data.assetIds.some((id) => bad.includes(id)));
    expect(doomed).toHaveLength(3);
    expect(report.failed).toBe(doomed.length);
    for (const a of doomed) {
      const job = (await env.producer.queue.getJob(a.id))!;
      expect(job.failedReason).toMatch(/^InvalidParameterValue: .* \(RequestId [0-9a-f-]{36}\)$/);
      expect(isPermanentReason(job.failedReason)).toBe(true);
      expect(job.attemptsMade).toBe(1);
    }
    // Bisect's cost: per bad asset, one refused call per level of halving, at most 1 + log2(100).
    expect(Math.max(...refused.map((c) => c.assetIds!.length))).toBeGreaterThan(10); // merged calls were refused
    expect(refused.length).toBeLessThanOrEqual(bad.length * (1 + Math.ceil(Math.log2(100))));
    expect(report.duplicateJobs).toBe(0);
  } finally {
    await env.close();
  }
});
