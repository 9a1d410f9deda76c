/**
 * Malformed jobs written straight into Redis by another client (a raw BullMQ Queue, no validation), in
 * generated shapes: each fails alone, at once (one attempt, whatever `attempts` says), with a reason
 * that names what is wrong; they never reach the API; the good jobs beside them complete; the worker
 * carries on.
 */
import fc from 'fast-check';
import { Queue } from 'bullmq';
import { loadConfig } from '../../src/config';
import { parseRescanJobData } from '../../src/job';
import { createLogger } from '../../src/logger';
import { RescanProducer } from '../../src/producer';
import { startSimulator, type Simulator } from '../../src/simulator';
import { RescanWorker } from '../../src/worker';
import { corruptedRescan } from '../support/propArbitraries';
import { deleteQueueKeys, redisClient, testRedisUrl, uniqueName, waitFor } from '../support/redis';

jest.setTimeout(60_000);

/** What Redis gives back: JSON (bigints as strings, NaN as null). */
function viaJson(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))) as unknown;
}

function refused(v: unknown): boolean {
  try {
    parseRescanJobData(v);
    return false;
  } catch {
    return true;
  }
}

const badShape = fc.oneof(
  {
    weight: 4,
    arbitrary: corruptedRescan
      .map((c) => ({ data: viaJson(c.value), mustName: c.mustName }))
      .filter((c) => refused(c.data)),
  },
  fc.constantFrom<{ data: unknown; mustName: string[] }>(
    { data: 'rescan 2798 2202462', mustName: ['a rescan must be an object'] },
    { data: null, mustName: ['a rescan must be an object'] },
    { data: [2798, [1]], mustName: ['a rescan must be an object'] },
    { data: 42, mustName: ['a rescan must be an object'] },
    { data: { policyItemId: 1, assetIds: [1, 1] }, mustName: ['assetIds'] },
    { data: { policyItemId: 1, assetIds: [1], batchId: '' }, mustName: ['batchId'] },
  ),
);

let sim: Simulator;

afterAll(async () => {
  await sim?.close();
});

test('malformed jobs of generated shapes each fail alone with the reason; good jobs beside them complete; the worker carries on', async () => {
  sim = await startSimulator({ port: 0 });
  const queueName = uniqueName('prop-malformed');
  const cfg = loadConfig({ REDIS_URL: testRedisUrl(), QUEUE_NAME: queueName, TCSS_ENDPOINT: sim.url });
  const raw = new Queue(queueName, { connection: { url: testRedisUrl(), maxRetriesPerRequest: null } });
  const producer = new RescanProducer({ redisUrl: testRedisUrl(), queueName });
  const redis = redisClient();
  const worker = await RescanWorker.start({ config: cfg, logger: createLogger('silent') });
  try {
    const shapes = fc.sample(badShape, 12);
    const bad = [];
    for (const s of shapes)
      bad.push({
        ...s,
        id: (await raw.add('rescan', s.data, { attempts: 5, backoff: { type: 'fixed', delay: 10 } })).id!,
      });
    const wrongName = (await raw.add('rescan-v2', { policyItemId: 1, assetIds: [1] }, { attempts: 5 })).id!;
    const { jobIds: good } = await producer.enqueueMany(
      Array.from({ length: 5 }, (_, i) => ({ policyItemId: 77, assetIds: [i + 1] })),
    );

    await waitFor(
      async () => {
        const c = await raw.getJobCounts('completed', 'failed');
        return c.completed === good.length && c.failed === bad.length + 1;
      },
      30_000,
      100,
      'every job settled',
    );

    for (const b of bad) {
      const job = (await raw.getJob(b.id))!;
      expect(await job.getState()).toBe('failed');
      expect(job.attemptsMade).toBe(1);
      expect(job.failedReason.startsWith('invalid job: ')).toBe(true);
      for (const field of b.mustName) expect(job.failedReason).toContain(field);
    }
    expect((await raw.getJob(wrongName))!.failedReason).toContain('"rescan-v2"');
    for (const id of good)
      expect((await raw.getJob(id))!.returnvalue).toMatchObject({ policyItemId: 77, taskId: expect.any(Number) });
    // Only the good jobs' assets reached the API.
    expect(
      sim
        .calls()
        .flatMap((c) => c.assetIds ?? [])
        .sort(),
    ).toEqual([1, 2, 3, 4, 5]);
    expect(worker.pausedBecause()).toBeUndefined();
    expect(worker.worker.isRunning()).toBe(true);
  } finally {
    await worker.close();
    await raw.obliterate({ force: true });
    await raw.close();
    await producer.close();
    await deleteQueueKeys(redis, queueName);
    await redis.quit();
  }
});
