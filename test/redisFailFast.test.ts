/**
 * Producers when Redis is gone (src/redisFailFast.ts, src/producer.ts), against redis-servers of the
 * test's own that it stops, freezes and starts again: enqueue fails within the bound with a
 * RedisUnavailableError, and nothing of a failed call is enqueued when Redis comes back.
 */
import { Queue } from 'bullmq';
import { RescanProducer } from '../src/producer';
import { RedisUnavailableError, isRedisUnavailableError } from '../src/redisFailFast';
import { freePort, startRedisServer, type RedisServerHandle } from '../src/redisServer';
import { sleep, uniqueName } from './support/redis';

const TIMEOUT_MS = 500;
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

function producerAt(url: string, queueName = uniqueName('test-failfast')): RescanProducer {
  const p = new RescanProducer({ redisUrl: url, queueName, timeoutMs: TIMEOUT_MS });
  cleanups.push(() => p.close());
  return p;
}

async function server(port?: number): Promise<RedisServerHandle> {
  const s = await startRedisServer(port !== undefined ? { port } : {});
  cleanups.push(() => s.stop(true));
  return s;
}

async function jobsOn(url: string, queueName: string): Promise<number> {
  const q = new Queue(queueName, { connection: { url, maxRetriesPerRequest: null } });
  try {
    const c = await q.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
    return Object.values(c).reduce((a, b) => a + b, 0);
  } finally {
    await q.close();
  }
}

/** How long `work` took to settle, and its error. */
async function timed(work: Promise<unknown>): Promise<{ ms: number; err: unknown }> {
  const t0 = Date.now();
  try {
    await work;
    return { ms: Date.now() - t0, err: undefined };
  } catch (err) {
    return { ms: Date.now() - t0, err };
  }
}

test('Redis never started: enqueue fails within the bound, and nothing is enqueued once Redis starts', async () => {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const queueName = uniqueName('test-failfast');
  const p = producerAt(url, queueName);
  const { ms, err } = await timed(p.enqueue({ policyItemId: 1, assetIds: [1] }));
  expect(err).toBeInstanceOf(RedisUnavailableError);
  expect(isRedisUnavailableError(err)).toBe(true);
  expect((err as Error).message).toContain(`127.0.0.1:${port}`);
  expect((err as Error).message).toContain('nothing was enqueued');
  // The bound plus slack for a loaded machine; today's code never settles at all.
  expect(ms).toBeLessThan(TIMEOUT_MS * 6);

  await server(port);
  await sleep(2_500); // ioredis would have reconnected (and flushed an offline queue) by now
  expect(await jobsOn(url, queueName)).toBe(0);
  // The producer works again once Redis is back.
  const ok = await p.enqueue({ policyItemId: 1, assetIds: [2] });
  expect(ok.jobIds).toHaveLength(1);
  expect(await jobsOn(url, queueName)).toBe(1);
});

test('Redis stops after a first enqueue: the next fails fast and does not land when Redis returns', async () => {
  const s = await server();
  const queueName = uniqueName('test-failfast');
  const p = producerAt(s.url, queueName);
  await p.enqueue({ policyItemId: 1, assetIds: [1] });
  await s.restart(true); // no persistence: the queue comes back empty
  await s.stop(true);
  const { ms, err } = await timed(p.enqueue({ policyItemId: 1, assetIds: [2] }));
  expect(err).toBeInstanceOf(RedisUnavailableError);
  expect(ms).toBeLessThan(TIMEOUT_MS * 6);
  const again = await startRedisServer({ port: s.port });
  cleanups.push(() => again.stop(true));
  await sleep(2_500);
  expect(await jobsOn(again.url, queueName)).toBe(0);
});

test('a frozen Redis (SIGSTOP): enqueue fails within the bound instead of hanging', async () => {
  const s = await server();
  const p = producerAt(s.url);
  await p.enqueue({ policyItemId: 1, assetIds: [1] });
  process.kill(s.pid, 'SIGSTOP');
  cleanups.push(() => Promise.resolve(process.kill(s.pid, 'SIGCONT')));
  const { ms, err } = await timed(p.enqueue({ policyItemId: 1, assetIds: [2] }));
  expect(err).toBeInstanceOf(RedisUnavailableError);
  expect(ms).toBeLessThan(TIMEOUT_MS * 6);
  process.kill(s.pid, 'SIGCONT');
  // And it recovers: a fresh connection replaces the one given up on.
  await expect(p.enqueue({ policyItemId: 1, assetIds: [3] })).resolves.toMatchObject({ jobIds: [expect.any(String)] });
});

test('reads through producer.queue fail fast too (status, dashboard, GET /v1/rescans/:id)', async () => {
  const port = await freePort();
  const p = producerAt(`redis://127.0.0.1:${port}`);
  const { ms, err } = await timed(p.ready());
  expect(err).toBeInstanceOf(RedisUnavailableError);
  expect(ms).toBeLessThan(TIMEOUT_MS * 6);
});
