/**
 * The enqueue API (src/producer.ts) against the suite's real Redis: job ids, data as the contract says,
 * job options, all-or-nothing bulk validation, priority.
 */
import { JOB_NAME, ValidationError, parseRescanJobData } from '../src/job';
import { BACKOFF_TYPE } from '../src/budget';
import { RescanProducer, validateAll, type ProducerOptions } from '../src/producer';
import { testRedisUrl, uniqueName } from './support/redis';

const producers: RescanProducer[] = [];

function producer(options: ProducerOptions = {}): RescanProducer {
  const p = new RescanProducer({ redisUrl: testRedisUrl(), queueName: uniqueName('test-producer'), ...options });
  producers.push(p);
  return p;
}

afterEach(async () => {
  for (const p of producers.splice(0)) {
    await p.queue.obliterate({ force: true });
    await p.close();
  }
});

async function counts(p: RescanProducer) {
  return p.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
}

describe('RescanProducer.enqueue', () => {
  test('adds one job named "rescan" carrying the request, and returns its id', async () => {
    const p = producer();
    const res = await p.enqueue({ policyItemId: 2798, assetIds: [2202462, 111], assetType: 'ASSET_CONTAINER' });
    expect(res.jobIds).toHaveLength(1);
    expect(res.jobIds[0]).toMatch(/^\d+$/);
    expect(res.batchIds).toEqual([undefined]);
    expect(res.jobs).toEqual([{ policyItemId: 2798, assetIds: [2202462, 111], assetType: 'ASSET_CONTAINER' }]);

    const job = await p.queue.getJob(res.jobIds[0]!);
    expect(job).toBeDefined();
    expect(job!.name).toBe(JOB_NAME);
    expect(job!.data).toEqual({ policyItemId: 2798, assetIds: [2202462, 111], assetType: 'ASSET_CONTAINER' });
    expect(parseRescanJobData(job!.data)).toEqual(job!.data);
    expect(await job!.getState()).toBe('waiting');
  });

  test('deduplicates asset ids, keeping first occurrences', async () => {
    const p = producer();
    const res = await p.enqueue({ policyItemId: 1, assetIds: [3, 1, 3, 2, 1] });
    const job = await p.queue.getJob(res.jobIds[0]!);
    expect(job!.data).toEqual({ policyItemId: 1, assetIds: [3, 1, 2] });
  });

  test('splits a large request into jobs that share a batchId (and only those get one)', async () => {
    const p = producer({ maxAssetsPerCall: 2 });
    const res = await p.enqueueMany([
      { policyItemId: 1, assetIds: [1, 2, 3, 4, 5] },
      { policyItemId: 2, assetIds: [9, 9, 8] },
    ]);
    expect(res.jobIds).toHaveLength(4);
    expect(new Set(res.jobIds).size).toBe(4);
    expect(res.batchIds).toHaveLength(2);
    expect(res.batchIds[0]).toEqual(expect.any(String));
    expect(res.batchIds[1]).toBeUndefined();

    const jobs = await Promise.all(res.jobIds.map((id) => p.queue.getJob(id)));
    expect(jobs.map((j) => j!.data)).toEqual([
      { policyItemId: 1, assetIds: [1, 2], batchId: res.batchIds[0] },
      { policyItemId: 1, assetIds: [3, 4], batchId: res.batchIds[0] },
      { policyItemId: 1, assetIds: [5], batchId: res.batchIds[0] },
      { policyItemId: 2, assetIds: [9, 8] },
    ]);
    expect(await counts(p)).toMatchObject({ waiting: 4 });
  });

  test('every job gets the attempts and the tcss-jitter backoff', async () => {
    const p = producer({ maxAttempts: 4, backoffMs: 250 });
    expect(p.jobOptions()).toMatchObject({ attempts: 4, backoff: { type: BACKOFF_TYPE, delay: 250 } });
    expect(p.jobOptions()).not.toHaveProperty('priority');
    const res = await p.enqueue({ policyItemId: 1, assetIds: [1] });
    const job = await p.queue.getJob(res.jobIds[0]!);
    expect(job!.opts.attempts).toBe(4);
    expect(job!.opts.backoff).toEqual({ type: 'tcss-jitter', delay: 250 });
    expect(job!.opts.removeOnComplete).toBeDefined();
    expect(job!.opts.removeOnFail).toBeDefined();
  });

  test('the defaults are 6 attempts and a 1000 ms backoff base', () => {
    const p = producer();
    expect(p.jobOptions()).toMatchObject({ attempts: 6, backoff: { type: 'tcss-jitter', delay: 1000 } });
  });

  test('priority passes through to the jobs', async () => {
    const p = producer();
    const urgent = await p.enqueue({ policyItemId: 1, assetIds: [1] }, { priority: 1 });
    const later = await p.enqueue({ policyItemId: 1, assetIds: [2] }, { priority: 50 });
    const plain = await p.enqueue({ policyItemId: 1, assetIds: [3] });
    expect((await p.queue.getJob(urgent.jobIds[0]!))!.opts.priority).toBe(1);
    expect((await p.queue.getJob(later.jobIds[0]!))!.opts.priority).toBe(50);
    expect((await p.queue.getJob(plain.jobIds[0]!))!.opts.priority ?? 0).toBe(0);
    expect(await counts(p)).toMatchObject({ prioritized: 2, waiting: 1 });
  });

  test('a bad request is refused with every problem, and nothing is added', async () => {
    const p = producer();
    await expect(p.enqueue({ policyItemId: -1, assetIds: ['x'] })).rejects.toMatchObject({
      name: 'ValidationError',
      problems: [expect.stringContaining('policyItemId'), expect.stringContaining('assetIds[0]')],
    });
    expect(await counts(p)).toEqual({ waiting: 0, prioritized: 0, delayed: 0, active: 0, completed: 0, failed: 0 });
  });
});

describe('RescanProducer.enqueueMany', () => {
  test('adds every request in one go', async () => {
    const p = producer();
    const res = await p.enqueueMany([
      { policyItemId: 1, assetIds: [1] },
      { policyItemId: 2, assetIds: [2] },
      { policyItemId: 3, assetIds: [3], assetType: 'ASSET_HOST' },
    ]);
    expect(res.jobIds).toHaveLength(3);
    expect(res.jobs.map((j) => j.policyItemId)).toEqual([1, 2, 3]);
    expect(await counts(p)).toMatchObject({ waiting: 3 });
  });

  test('one bad request refuses them all: nothing is added, and the error names it as #2', async () => {
    const p = producer();
    let error: unknown;
    try {
      await p.enqueueMany([
        { policyItemId: 1, assetIds: [1] },
        { policyItemId: 1, assetIds: [] },
        { policyItemId: 3, assetIds: [3] },
      ]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const problems = (error as ValidationError).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^#2: assetIds/);
    expect(await counts(p)).toEqual({ waiting: 0, prioritized: 0, delayed: 0, active: 0, completed: 0, failed: 0 });
    expect(await p.queue.count()).toBe(0);
  });

  test('problems of several bad requests are all listed, each under its number', async () => {
    const p = producer();
    await expect(
      p.enqueueMany([null, { policyItemId: 1, assetIds: [1] }, { policyItemId: 'a', assetIds: [1], x: 1 }]),
    ).rejects.toMatchObject({
      problems: [
        expect.stringMatching(/^#1: a rescan must be an object/),
        expect.stringMatching(/^#3: policyItemId/),
        expect.stringMatching(/^#3: unknown field "x"/),
      ],
    });
    expect(await p.queue.count()).toBe(0);
  });
});

describe('validateAll', () => {
  test('labels problems with the given label, or not at all for a single request', () => {
    expect(() => validateAll([{ policyItemId: 1, assetIds: [1] }, {}], (i) => `line ${i + 3}`)).toThrow(
      /line 4: policyItemId is required/,
    );
    try {
      validateAll([{ policyItemId: 0, assetIds: [1] }]);
      throw new Error('expected a ValidationError');
    } catch (err) {
      expect((err as ValidationError).problems).toEqual([expect.stringMatching(/^policyItemId/)]);
    }
    expect(validateAll([{ policyItemId: 1, assetIds: [1, 1] }])).toEqual([{ policyItemId: 1, assetIds: [1, 1] }]);
  });
});

describe('RescanProducer priority', () => {
  test.each([0, -1, 1.5, 2_097_152, Number.NaN])(
    'priority %p is a ValidationError and nothing is added',
    async (priority) => {
      const p = producer();
      await expect(p.enqueue({ policyItemId: 1, assetIds: [1] }, { priority })).rejects.toBeInstanceOf(ValidationError);
      expect(Object.values(await counts(p)).reduce((a, b) => a + b, 0)).toBe(0);
    },
  );
});
