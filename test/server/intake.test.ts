/**
 * The HTTP API's intake when Redis fails, and idempotent intake (src/server/errorReply.ts,
 * Idempotency-Key), over real HTTP against a redis-server of the test's own that it stops and starts.
 */
import { Queue } from 'bullmq';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startRedisServer, type RedisServerHandle } from '../../src/redisServer';
import { startServer, type RunningServer } from '../../src/server/run';
import { sleep, uniqueName, waitFor } from '../support/redis';

jest.setTimeout(90_000);

const TOKEN = 'token-0123456789-0123456789-abcdef';
const TIMEOUT_MS = 800;
let redis: RedisServerHandle;
let cfg: Config;
let server: RunningServer;
let queue: Queue;

beforeAll(async () => {
  redis = await startRedisServer();
  cfg = loadConfig({
    REDIS_URL: redis.url,
    QUEUE_NAME: uniqueName('intake'),
    SERVER_PORT: '0',
    SERVER_API_TOKEN: TOKEN,
    PRODUCER_TIMEOUT_MS: String(TIMEOUT_MS),
  });
  server = await startServer(cfg, createLogger('silent'));
  queue = new Queue(cfg.queueName, { connection: { url: redis.url, maxRetriesPerRequest: null } });
  queue.on('error', () => undefined);
});

afterAll(async () => {
  await server.close();
  await queue.close();
  await redis.stop(true);
});

const post = async (body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${server.url}/v1/rescans`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
};

const totalJobs = async () => Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);

test('Idempotency-Key: a retry gets the same job ids and adds nothing; another body under the key is a 409', async () => {
  const body = [
    { policyItemId: 3, assetIds: [1, 2] },
    { policyItemId: 4, assetIds: [5] },
  ];
  const first = await post(body, { 'idempotency-key': 'req-0001' });
  expect(first.status).toBe(202);
  const before = await totalJobs();
  const again = await post(body, { 'idempotency-key': 'req-0001' });
  expect(again).toMatchObject({ status: 202, body: first.body });
  expect(await totalJobs()).toBe(before);
  // The ids it handed out can be looked up like any other.
  for (const id of first.body.jobIds as string[]) {
    expect(id).toMatch(/^idem-[0-9a-f]{24}-\d+$/);
    const res = await fetch(`${server.url}/v1/rescans/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect([id, res.status]).toEqual([id, 200]);
  }
  const conflict = await post([{ policyItemId: 3, assetIds: [1] }], { 'idempotency-key': 'req-0001' });
  expect(conflict).toMatchObject({ status: 409, body: { code: 'IDEMPOTENCY_CONFLICT' } });
  const bad = await post(body, { 'idempotency-key': 'x'.repeat(256) });
  expect(bad.status).toBe(400);
  expect(await totalJobs()).toBe(before);
});

test('Redis down: POST answers 503 with Retry-After within the bound, and nothing lands when Redis returns', async () => {
  await redis.stop(true);
  try {
    const t0 = Date.now();
    const down = await post({ policyItemId: 9, assetIds: [9] }, { 'idempotency-key': 'while-down' });
    const ms = Date.now() - t0;
    expect(down.status).toBe(503);
    expect(Number(down.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(down.body).toEqual({ error: expect.stringContaining('nothing was enqueued'), code: 'REDIS_UNAVAILABLE' });
    expect(ms).toBeLessThan(TIMEOUT_MS * 8); // today: held until Redis returns
    const tasks = await fetch(`${server.url}/v1/tasks`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(tasks.status).toBe(503);
  } finally {
    redis = await startRedisServer({ port: redis.port });
  }
  await sleep(3_000); // ioredis reconnects within ~2 s; an offline queue would flush now
  const fresh = new Queue(cfg.queueName, { connection: { url: redis.url, maxRetriesPerRequest: null } });
  try {
    // The restarted Redis is empty (no persistence): any job is one that landed late.
    expect(Object.values(await fresh.getJobCounts()).reduce((a, b) => a + b, 0)).toBe(0);
    // And the server takes rescans again.
    const ok = await waitFor(
      async () => ((await post({ policyItemId: 9, assetIds: [9] })).status === 202 ? true : undefined),
      15_000,
      250,
      'the API to accept again',
    );
    expect(ok).toBe(true);
  } finally {
    await fresh.close();
  }
});
