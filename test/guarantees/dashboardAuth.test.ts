/**
 * README, Guarantees: "nobody without credentials gets in". Every route of the dashboard (bull-board's
 * own list of its API routes, so a route a new bull-board version adds is checked too), its pages and
 * its actions (pause, retry, clean, remove, promote, add, ...) answer 401 without credentials or with
 * wrong ones, and change nothing in Redis; the same actions with credentials do change the queue (so
 * the 401s are the guard, not routes that do nothing). Over real HTTP, on the suite's Redis.
 */
import { appRoutes } from '@bull-board/api/dist/routes.js';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { RescanProducer } from '../../src/producer';
import { startServer, type RunningServer } from '../../src/server/run';
import { basicAuth } from '../support/http';
import { deleteQueueKeys, redisClient, testRedisUrl, uniqueName, waitFor } from '../support/redis';

jest.setTimeout(60_000);

const PASSWORD = 'dashboard-password-0123';
const TOKEN = 'dashboard-token-0123456789-abcdef';
const AUTH = { authorization: basicAuth('admin', PASSWORD) };
const WRONG: Record<string, Record<string, string>> = {
  none: {},
  'a wrong password': { authorization: basicAuth('admin', 'not-the-password-0123') },
  'a wrong user': { authorization: basicAuth('root', PASSWORD) },
  'a wrong bearer token': { authorization: 'Bearer not-the-token-0123456789-abcdef' },
};

let redis: Redis;
let cfg: Config;
let server: RunningServer;
let producer: RescanProducer;
const ids: Record<'waiting' | 'delayed' | 'failed' | 'completed', string> = {
  waiting: '',
  delayed: '',
  failed: '',
  completed: '',
};

beforeAll(async () => {
  redis = redisClient();
  cfg = loadConfig({
    REDIS_URL: testRedisUrl(),
    QUEUE_NAME: uniqueName('dash-auth'),
    SERVER_PORT: '0',
    SERVER_PASSWORD: PASSWORD,
    SERVER_API_TOKEN: TOKEN,
    // Every route is tried with wrong credentials from 127.0.0.1 (the limit is tested in test/server/hardening.test.ts).
    SERVER_LOGIN_MAX_FAILURES: '10000',
  });
  server = await startServer(cfg, createLogger('silent'));
  producer = new RescanProducer({ redisUrl: cfg.redisUrl, queueName: cfg.queueName, maxAttempts: 1 });
  // A job in each state an action can change: one completed, one failed (by a plain BullMQ worker, then
  // closed), one waiting, one delayed, and a job scheduler.
  ids.completed = (await producer.enqueue({ policyItemId: 1, assetIds: [1] })).jobIds[0]!;
  ids.failed = (await producer.enqueue({ policyItemId: 2, assetIds: [2] })).jobIds[0]!;
  const worker = new Worker(
    cfg.queueName,
    async (job) => {
      if (job.id === ids.failed) throw new Error('failed on purpose');
      return { taskId: 1 };
    },
    { connection: { url: cfg.redisUrl, maxRetriesPerRequest: null } },
  );
  await waitFor(async () => {
    const c = await producer.queue.getJobCounts('completed', 'failed');
    return c.completed === 1 && c.failed === 1;
  }, 10_000);
  await worker.close();
  ids.waiting = (await producer.enqueue({ policyItemId: 3, assetIds: [3] })).jobIds[0]!;
  ids.delayed = (await producer.queue.add('rescan', { policyItemId: 4, assetIds: [4] }, { delay: 3_600_000 })).id!;
  await producer.queue.upsertJobScheduler(
    'nightly',
    { every: 86_400_000 },
    { name: 'rescan', data: { policyItemId: 5, assetIds: [5] } },
  );
});

afterAll(async () => {
  await server.close();
  await producer.queue.obliterate({ force: true });
  await producer.close();
  await deleteQueueKeys(redis, cfg.queueName);
  await redis.quit();
});

/** Every key BullMQ keeps for the queue, with its value (DUMP): "nothing changed" means these are equal. */
async function queueState(): Promise<Record<string, string>> {
  const names = (await redis.keys(`bull:${cfg.queueName}:*`)).sort();
  const state: Record<string, string> = {};
  for (const name of names) state[name] = ((await redis.dumpBuffer(name)) ?? Buffer.alloc(0)).toString('base64');
  return state;
}

/** A route of bull-board's list with its parameters filled with things that exist. */
function concrete(route: string): string {
  return `/dashboard${route}`
    .replace(':queueName', encodeURIComponent(cfg.queueName))
    .replace(':queueStatus', 'failed')
    .replace(':schedulerId', 'nightly')
    .replace(':jobId', ids.failed);
}

/** [method, path] of every dashboard route: bull-board's API routes and pages, and a static asset. */
function dashboardRoutes(): [string, string][] {
  const out: [string, string][] = [];
  for (const r of appRoutes.api) {
    for (const method of [r.method].flat())
      for (const route of [r.route].flat()) out.push([method.toUpperCase(), concrete(route)]);
  }
  for (const route of [appRoutes.entryPoint.route].flat()) out.push(['GET', concrete(route)]);
  out.push(['GET', '/dashboard/static/js/main.js']);
  return out;
}

async function send(method: string, path: string, headers: Record<string, string>): Promise<number> {
  const hasBody = !['GET', 'HEAD', 'DELETE'].includes(method);
  const res = await fetch(server.url + path, {
    method,
    headers: { ...headers, ...(hasBody ? { 'content-type': 'application/json' } : {}) },
    ...(hasBody
      ? {
          body: JSON.stringify({
            name: 'rescan',
            data: { policyItemId: 9, assetIds: [9] },
            delay: 0,
            priority: 1,
            concurrency: 1,
            max: 1,
            duration: 1000,
          }),
        }
      : {}),
  });
  await res.arrayBuffer();
  return res.status;
}

test('every dashboard route and action answers 401 without credentials or with wrong ones, and nothing in Redis changes', async () => {
  const routes = dashboardRoutes();
  // bull-board's list as this version has it: pause, resume, retry, clean, promote, add, remove, ...
  expect(routes.length).toBeGreaterThan(35);
  expect(routes).toEqual(
    expect.arrayContaining([
      ['PUT', `/dashboard/api/queues/${encodeURIComponent(cfg.queueName)}/pause`],
      ['PUT', '/dashboard/api/queues/pause'],
    ]),
  );
  const before = await queueState();
  const answers: string[] = [];
  for (const [method, path] of routes) {
    for (const [how, headers] of Object.entries(WRONG))
      answers.push(`${method} ${path} with ${how}: ${await send(method, path, headers)}`);
  }
  expect(answers.filter((a) => !a.endsWith(': 401'))).toEqual([]);
  expect(await queueState()).toEqual(before);
  expect(await producer.queue.isPaused()).toBe(false);
});

test('with credentials the same actions do change the queue: pause, promote, remove', async () => {
  const q = encodeURIComponent(cfg.queueName);
  expect(await send('GET', `/dashboard/api/queues?activeQueue=${q}&status=failed`, AUTH)).toBe(200);
  expect(await send('PUT', `/dashboard/api/queues/${q}/pause`, AUTH)).toBe(200);
  expect(await producer.queue.isPaused()).toBe(true);
  expect(await send('PUT', `/dashboard/api/queues/${q}/resume`, { authorization: `Bearer ${TOKEN}` })).toBe(200);
  expect(await producer.queue.isPaused()).toBe(false);
  expect(await send('PUT', `/dashboard/api/queues/${q}/${ids.delayed}/promote`, AUTH)).toBe(204);
  expect(await (await producer.queue.getJob(ids.delayed))!.getState()).toBe('waiting');
  expect(await send('PUT', `/dashboard/api/queues/${q}/${ids.failed}/clean`, AUTH)).toBe(204);
  expect(await producer.queue.getJob(ids.failed)).toBeUndefined();
});
