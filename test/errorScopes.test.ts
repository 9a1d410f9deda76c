/**
 * Issue 8.3 and 8.4, end to end (worker processes, Redis, the simulator over HTTP):
 * - one bad asset among 100 merged jobs fails that job alone (bisect), with the API's code, message and
 *   RequestId, at a cost of about 2*log2(100) more calls;
 * - a check item that does not exist fails its jobs and no other;
 * - jobs that break the contract (data that is not JSON, too many assets for one call, an asset id
 *   beyond 2^53) fail at once, never spend a call and never sit in `active`;
 * - codes about the account or configuration pause the workers with the reason and fail nothing.
 */
import { queueStatus } from '../src/status';
import { FaultEnv, until } from './support/faultHarness';

/** Each job one asset, all for one check item and no asset type: one coalescing key, calls of up to 100. */
function oneItem(policyItemId: number, firstAsset: number, n: number) {
  return Array.from({ length: n }, (_, i) => ({ policyItemId, assetIds: [firstAsset + i] }));
}

const REASON = (code: string) => new RegExp(`^${code.replace('.', '\\.')}: .+ \\(RequestId [0-9a-f-]{36}\\)$`);

test('one bad asset among 100 merged jobs: only its job fails, with code, message and RequestId; at most 2*log2(100) more calls', async () => {
  const BAD = 700_042;
  const env = await FaultEnv.start({ scenario: 'bisect one bad asset', sim: { missingAssetIds: [BAD] } });
  try {
    // The backlog is there before the worker starts, so its first call merges 100 jobs.
    await env.enqueue(oneItem(7001, 700_000, 100));
    await env.enqueue(oneItem(7002, 800_000, 100)); // a healthy check item alongside
    env.startWorker();
    await env.waitForDrain(60_000);
    const counts = await env.counts();
    expect([counts.completed, counts.failed]).toEqual([199, 1]);

    const [failed] = await env.producer.queue.getFailed();
    expect(failed!.data).toEqual({ policyItemId: 7001, assetIds: [BAD] });
    expect(failed!.failedReason).toMatch(REASON('InvalidParameterValue'));
    expect(failed!.failedReason).toContain(String(BAD));
    expect(failed!.attemptsMade).toBe(1);

    const calls = env.sim.calls();
    const refused = calls.filter((c) => c.code === 'InvalidParameterValue');
    // The first refused call merged jobs; each refused call after it is a half of the one before.
    expect(refused[0]!.assetIds!.length).toBeGreaterThan(50);
    for (const c of refused) expect(c.assetIds).toContain(BAD);
    for (let i = 1; i < refused.length; i++)
      expect(refused[i]!.assetIds!.length).toBeLessThanOrEqual(Math.ceil(refused[i - 1]!.assetIds!.length / 2));
    expect(refused[refused.length - 1]!.assetIds).toEqual([BAD]);
    // Each split costs two calls (one per half): extra calls = 2 * (refused - 1) <= 2 * ceil(log2(100)).
    const extra = 2 * (refused.length - 1);
    expect(extra).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(100)));
    // Every other call succeeded, and each good asset of 7001 was called exactly once with success.
    expect(
      calls.filter((c) => c.code !== 'OK' && c.code !== 'InvalidParameterValue' && c.code !== 'RequestLimitExceeded'),
    ).toEqual([]);
    const okAssets = calls.filter((c) => c.code === 'OK' && c.policyItemId === 7001).flatMap((c) => c.assetIds!);
    expect(okAssets.sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => 700_000 + i).filter((a) => a !== BAD),
    );
    // The healthy check item was not split: its calls all succeeded at once.
    expect(
      calls.filter((c) => c.policyItemId === 7002 && c.code !== 'OK' && c.code !== 'RequestLimitExceeded'),
    ).toEqual([]);
  } finally {
    await env.close();
  }
});

test('a check item that does not exist (ResourceNotFound): its jobs fail, each with the reason; other items complete', async () => {
  const env = await FaultEnv.start({
    scenario: 'missing check item',
    sim: { missingPolicyItemIds: [7404], missingCode: 'ResourceNotFound' },
  });
  try {
    await env.enqueue(oneItem(7404, 900_000, 6));
    await env.enqueue(oneItem(7005, 910_000, 30));
    env.startWorker();
    await env.waitForDrain(60_000);
    const counts = await env.counts();
    expect([counts.completed, counts.failed]).toEqual([30, 6]);
    for (const job of await env.producer.queue.getFailed()) {
      expect((job.data as { policyItemId: number }).policyItemId).toBe(7404);
      expect(job.failedReason).toMatch(REASON('ResourceNotFound'));
      expect(job.failedReason).toContain('7404');
    }
  } finally {
    await env.close();
  }
});

test('jobs another client wrote against the contract fail at once, without a call and without sitting in active', async () => {
  const env = await FaultEnv.start({ scenario: 'contract refusals' });
  try {
    const q = env.producer.queue;
    // Written past our producer (which would refuse them): as another BullMQ client could.
    const tooMany = await q.add('rescan', {
      policyItemId: 7101,
      assetIds: Array.from({ length: 101 }, (_, i) => 1 + i),
    });
    const notJson = await q.add('rescan', { policyItemId: 7102, assetIds: [1] });
    const huge = await q.add('rescan', { policyItemId: 7103, assetIds: [1] });
    const prefix = `bull:${q.name}:`;
    await env.redis.hset(`${prefix}${notJson.id!}`, 'data', '{"policyItemId": 7102, "assetIds": [1');
    await env.redis.hset(`${prefix}${huge.id!}`, 'data', '{"policyItemId":7103,"assetIds":[9007199254740993]}');
    const good = await env.enqueue(oneItem(7104, 1, 1));

    const started = Date.now();
    env.startWorker();
    await until(
      async () => {
        const c = await env.counts();
        return c.failed === 3 && c.completed === 1;
      },
      30_000,
      'three refusals and one success',
    );
    // Refused in the worker's first moments: nothing waited for a stalled-job check (15 s).
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await env.counts()).active).toBe(0);

    // Read from the job's hash: BullMQ's own getJob cannot rebuild a job whose data is not JSON.
    const reason = async (id: string) => env.redis.hget(`${prefix}${id}`, 'failedReason');
    expect(await reason(tooMany.id!)).toMatch(
      /^invalid job: assetIds has 101 asset ids, more than one call takes \(TCSS_MAX_ASSETS_PER_CALL 100\)/,
    );
    expect(await reason(notJson.id!)).toMatch(/^invalid job: data is not JSON \(.+\): "\{\\"policyItemId\\": 7102/);
    expect(await reason(huge.id!)).toMatch(/^invalid job: .*no larger than 2\^53-1/);
    for (const id of [tooMany.id!, notJson.id!, huge.id!])
      expect(await env.redis.hget(`${prefix}${id}`, 'atm')).toBe('1');
    // Only the good job reached the API.
    expect(env.sim.calls().map((c) => [c.policyItemId, c.code])).toEqual([[7104, 'OK']]);
    expect(good).toHaveLength(1);
  } finally {
    await env.close();
  }
});

describe.each([
  ['InternalError.ErrRoleNotExist', 'ACCOUNT REFUSED'],
  ['FailedOperation.AuthorizedNotEnough', 'ACCOUNT REFUSED'],
  ['UnsupportedRegion', 'CONFIGURATION REFUSED'],
])('%s (about the account or configuration)', (code, fatal) => {
  test('pauses the worker with the reason and fails nothing; the backlog waits untouched', async () => {
    const env = await FaultEnv.start({ scenario: `pause on ${code}`, sim: { forcedErrors: { '7201': code } } });
    try {
      await env.enqueue(oneItem(7201, 1, 40));
      const w = env.startWorker();
      const line = await w.waitForLog((l) => l.level === 60, 20_000);
      expect(line.code).toBe(code);
      expect(String(line.msg)).toMatch(new RegExp(`^${fatal}`));
      // Every job back in the queue. A fetch BullMQ had under way when the worker paused may still move
      // one job to active after that; the worker puts it back too, so wait for all 40, not just active 0.
      await until(
        async () => {
          const c = await env.counts();
          return c.active === 0 && c.waiting + c.prioritized + c.delayed === 40;
        },
        20_000,
        'held jobs back in the queue',
      );
      const counts = await env.counts();
      expect(counts.failed).toBe(0);
      expect(counts.completed).toBe(0);
      expect(counts.waiting + counts.prioritized + counts.delayed).toBe(40);
      // Every job untouched (no attempt used); one call refused, no more.
      for (const a of env.accepted) expect((await env.producer.queue.getJob(a.id))!.attemptsMade).toBe(0);
      expect(env.sim.calls().filter((c) => c.code === code)).toHaveLength(1);
      // `status` (and /readyz, which reads the same) says why.
      const status = await queueStatus(env.producer.queue, env.redis);
      expect(Object.values(status.pausedWorkers).map((p) => p.code)).toEqual([code]);
      expect(w.child.exitCode).toBeNull();
    } finally {
      await env.close();
    }
  });
});
