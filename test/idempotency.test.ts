/**
 * Idempotent intake through the producer (src/idempotency.ts), against the suite's real Redis: the same
 * key returns the same job ids and adds nothing; a different request under the same key is a typed
 * conflict; concurrent retries agree; a half-done call is finished by its retry without duplicates.
 */
import type { Redis } from 'ioredis';
import { ValidationError } from '../src/job';
import { IDEMPOTENCY_TTL_SECONDS, IdempotencyConflictError, isIdempotencyConflictError } from '../src/idempotency';
import { keys } from '../src/keys';
import { RescanProducer } from '../src/producer';
import { redisClient, testRedisUrl, uniqueName } from './support/redis';

let redis: Redis;
const producers: RescanProducer[] = [];

beforeAll(() => {
  redis = redisClient();
});
afterAll(async () => {
  await redis.quit();
});

function producer(queueName = uniqueName('test-idem'), maxAssetsPerCall = 100): RescanProducer {
  const p = new RescanProducer({ redisUrl: testRedisUrl(), queueName, maxAssetsPerCall });
  producers.push(p);
  return p;
}

afterEach(async () => {
  for (const p of producers.splice(0)) {
    const found = await redis.keys(`tcss-rescan:{${p.queue.name}}:*`);
    if (found.length > 0) await redis.del(...found);
    await p.queue.obliterate({ force: true });
    await p.close();
  }
});

async function jobCount(p: RescanProducer): Promise<number> {
  const c = await p.queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

test('a retry with the same key returns the same job ids and enqueues nothing new', async () => {
  const p = producer();
  const req = [
    { policyItemId: 7, assetIds: [1, 2] },
    { policyItemId: 8, assetIds: [3] },
  ];
  const first = await p.enqueueMany(req, { idempotencyKey: 'order-42' });
  expect(first.jobIds).toHaveLength(2);
  const again = await p.enqueueMany(req, { idempotencyKey: 'order-42' });
  expect(again.jobIds).toEqual(first.jobIds);
  expect(again.batchIds).toEqual(first.batchIds);
  expect(again.jobs).toEqual(first.jobs);
  expect(await jobCount(p)).toBe(2);
  // Another producer (another process) gets the same answer.
  const other = producer(p.queue.name);
  expect((await other.enqueueMany(req, { idempotencyKey: 'order-42' })).jobIds).toEqual(first.jobIds);
  expect(await jobCount(p)).toBe(2);
  // Without a key, or with another key, it is a new request.
  await p.enqueueMany(req);
  await p.enqueueMany(req, { idempotencyKey: 'order-43' });
  expect(await jobCount(p)).toBe(6);
});

test('the key is remembered for 24 h', async () => {
  const p = producer();
  await p.enqueue({ policyItemId: 7, assetIds: [1] }, { idempotencyKey: 'k-ttl' });
  const found = await redis.keys(keys.idempotency(p.queue.name, '*'));
  expect(found).toHaveLength(1);
  const ttl = await redis.ttl(found[0]!);
  expect(ttl).toBeGreaterThan(IDEMPOTENCY_TTL_SECONDS - 60);
  expect(ttl).toBeLessThanOrEqual(IDEMPOTENCY_TTL_SECONDS);
  expect(found[0]).not.toContain('k-ttl'); // the key is hashed, never a key name
});

test('the same key with a different request is an IdempotencyConflictError, and nothing is added', async () => {
  const p = producer();
  await p.enqueue({ policyItemId: 7, assetIds: [1] }, { idempotencyKey: 'k1' });
  const cases = [
    p.enqueue({ policyItemId: 7, assetIds: [2] }, { idempotencyKey: 'k1' }),
    p.enqueue({ policyItemId: 7, assetIds: [1] }, { idempotencyKey: 'k1', priority: 3 }),
    p.enqueueMany(
      [
        { policyItemId: 7, assetIds: [1] },
        { policyItemId: 7, assetIds: [1] },
      ],
      { idempotencyKey: 'k1' },
    ),
  ];
  for (const c of cases) {
    const err = await c.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(IdempotencyConflictError);
    expect(isIdempotencyConflictError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', idempotencyKey: 'k1' });
  }
  expect(await jobCount(p)).toBe(1);
});

test('concurrent calls with the same key all get the same ids, and one set of jobs exists', async () => {
  const p = producer(uniqueName('test-idem'), 2);
  const others = [p, producer(p.queue.name, 2), producer(p.queue.name, 2)];
  const req = { policyItemId: 9, assetIds: [1, 2, 3, 4, 5] }; // split into 3 jobs sharing a batch id
  const results = await Promise.all(
    others.flatMap((q) => [q.enqueue(req, { idempotencyKey: 'burst' }), q.enqueue(req, { idempotencyKey: 'burst' })]),
  );
  for (const r of results) {
    expect(r.jobIds).toEqual(results[0]!.jobIds);
    expect(r.batchIds).toEqual(results[0]!.batchIds);
  }
  expect(results[0]!.jobIds).toHaveLength(3);
  expect(await jobCount(p)).toBe(3);
});

test('a retry after a half-done call adds exactly the missing jobs', async () => {
  const p = producer(uniqueName('test-idem'), 1);
  const req = { policyItemId: 9, assetIds: [1, 2, 3] };
  const first = await p.enqueue(req, { idempotencyKey: 'half' });
  // As if the call had died after adding only its first job: the record is not marked done and
  // two jobs are missing.
  const [recordKey] = await redis.keys(keys.idempotency(p.queue.name, '*'));
  const record = JSON.parse((await redis.get(recordKey!))!) as Record<string, unknown>;
  delete record.jobIds;
  delete record.batchIds;
  await redis.set(recordKey!, JSON.stringify(record), 'KEEPTTL');
  for (const id of first.jobIds.slice(1)) await (await p.queue.getJob(id))!.remove();
  expect(await jobCount(p)).toBe(1);

  const retry = await p.enqueue(req, { idempotencyKey: 'half' });
  expect(retry.jobIds).toEqual(first.jobIds);
  expect(await jobCount(p)).toBe(3);
  const jobs = await Promise.all(retry.jobIds.map((id) => p.queue.getJob(id)));
  expect(jobs.map((j) => j?.data.assetIds)).toEqual([[1], [2], [3]]);
});

test.each([
  ['empty', ''],
  ['with a space', 'has space'],
  ['256 characters', 'x'.repeat(256)],
  ['not ASCII', 'é'],
])('a bad key (%s) is a ValidationError before Redis is touched', async (_what, key) => {
  const p = producer();
  await expect(p.enqueue({ policyItemId: 1, assetIds: [1] }, { idempotencyKey: key })).rejects.toBeInstanceOf(
    ValidationError,
  );
  expect(await jobCount(p)).toBe(0);
});
