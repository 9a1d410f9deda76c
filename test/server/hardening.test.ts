/**
 * The HTTP server against odd input and attackers (issue 10, points 6-8, 10, 11), over real HTTP on
 * loopback, on the suite's Redis:
 * - ids and cursors it never issued get a 4xx, never a 500 (BullMQ's own key names as job ids);
 * - bodies are parsed exactly: no number is rounded to another id, no key is named twice;
 * - a 400 lists at most 100 problems and says how many there were;
 * - failed logins are limited per client address and logged without the password;
 * - security headers; with SERVER_AUTH=off only loopback Host values;
 * - /readyz says only ready or not and a reason code; the details need a login.
 */
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config';
import { keys } from '../../src/keys';
import { createLogger, type Logger } from '../../src/logger';
import { RescanProducer } from '../../src/producer';
import { startServer, type RunningServer } from '../../src/server/run';
import { basicAuth, fetchAnswer } from '../support/http';
import { deleteQueueKeys, redisClient, testRedisUrl, uniqueName, waitFor } from '../support/redis';

jest.setTimeout(60_000);

const PASSWORD = 'hardening-password-1234';
const TOKEN = 'hardening-token-0123456789-abcdef';
const AUTH = { authorization: basicAuth('admin', PASSWORD) };
const MAX_LOGIN_FAILURES = 4;

/** BullMQ's own key names under `bull:<queue>:`, which a job id must never reach. */
const BULLMQ_KEYS = [
  'meta',
  'events',
  'id',
  'wait',
  'active',
  'completed',
  'stalled-check',
  'marker',
  'paused',
  'delayed',
  'prioritized',
  'failed',
  'limiter',
  'repeat',
  'pc',
  'de',
];

let redis: Redis;
let cfg: Config;
let server: RunningServer;
let producer: RescanProducer;
let worker: Worker;
let release: () => void = () => undefined;

function config(extra: Record<string, string> = {}, queueName = uniqueName('harden')): Config {
  return loadConfig({
    REDIS_URL: testRedisUrl(),
    QUEUE_NAME: queueName,
    SERVER_PORT: '0',
    SERVER_PASSWORD: PASSWORD,
    SERVER_API_TOKEN: TOKEN,
    SERVER_BODY_LIMIT_BYTES: String(4 * 1024 * 1024),
    ...extra,
  });
}

const http = (base: string, path: string, init: RequestInit = {}) => fetchAnswer(base + path, init);
const get = (path: string, headers: Record<string, string> = AUTH) => http(server.url, path, { headers });
const post = (payload: string, headers: Record<string, string> = AUTH) =>
  http(server.url, '/v1/rescans', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: payload,
  });

const totalJobs = async () => Object.values(await producer.queue.getJobCounts()).reduce((a, b) => a + b, 0);

/** A logger whose lines the test can read. */
function capturingLogger(): { logger: Logger; lines: () => string[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines: () => out };
}

beforeAll(async () => {
  redis = redisClient();
  cfg = config();
  server = await startServer(cfg, createLogger('silent'));
  producer = new RescanProducer({ redisUrl: cfg.redisUrl, queueName: cfg.queueName });
  // Make BullMQ's keys exist as they do in production: jobs waiting, one completed, one held active.
  let held = 0;
  const holding = new Promise<void>((resolve) => (release = resolve));
  worker = new Worker(
    cfg.queueName,
    async (job: Job) => {
      if (held++ === 1) await holding;
      return { taskId: Number(job.id) };
    },
    { connection: { url: cfg.redisUrl, maxRetriesPerRequest: null }, stalledInterval: 1000 },
  );
  await producer.enqueue({ policyItemId: 1, assetIds: [1] });
  await producer.enqueue({ policyItemId: 1, assetIds: [2] });
  await waitFor(
    async () =>
      (await producer.queue.getJobCounts('active')).active === 1 &&
      (await producer.queue.getJobCounts('completed')).completed === 1,
    10_000,
  );
  await worker.pause(true).catch(() => undefined);
  await producer.enqueue({ policyItemId: 1, assetIds: [3] }); // stays waiting
  await waitFor(async () => (await redis.exists(`bull:${cfg.queueName}:stalled-check`)) === 1, 10_000);
});

afterAll(async () => {
  release();
  await worker.close();
  await server.close();
  await producer.queue.obliterate({ force: true });
  await producer.close();
  await deleteQueueKeys(redis, cfg.queueName);
  await redis.quit();
});

describe('ids and cursors we never issued get a 4xx, never a 500', () => {
  test.each(BULLMQ_KEYS)('GET /v1/rescans/%s is a 404', async (name) => {
    const res = await get(`/v1/rescans/${name}`);
    expect(res.status).toBe(404);
    expect(typeof res.body.error).toBe('string');
  });

  test.each(BULLMQ_KEYS)("bull-board's /dashboard/api/queues/<queue>/%s is a 404", async (name) => {
    const res = await get(`/dashboard/api/queues/${encodeURIComponent(cfg.queueName)}/${name}`);
    expect(res.status).toBe(404);
  });

  test('a real job is still found, by our API and by bull-board', async () => {
    const [id] = (await producer.queue.getJobs(['completed'])).map((j) => j.id!);
    expect((await get(`/v1/rescans/${id}`)).body.state).toBe('completed');
    expect((await get(`/dashboard/api/queues/${encodeURIComponent(cfg.queueName)}/${id}`)).status).toBe(200);
  });

  test.each([
    '0-0',
    '0-00',
    '18446744073709551616-0',
    '0-18446744073709551616',
    '99999999999999999999999-1',
    '01-1',
    '1-',
    '-1',
    '1-1-1',
  ])('GET /v1/tasks?cursor=%s is a 400', async (cursor) => {
    const res = await get(`/v1/tasks?cursor=${cursor}`);
    expect(res.status).toBe(400);
    expect(res.body.problems).toEqual([expect.stringContaining('cursor')]);
  });

  test('the largest stream id is a cursor Redis accepts, with or without policyItemId', async () => {
    for (const q of ['', '&policyItemId=1'])
      expect((await get(`/v1/tasks?cursor=18446744073709551615-18446744073709551615${q}`)).status).toBe(200);
    expect((await get('/v1/tasks?cursor=0-1')).status).toBe(200);
  });
});

describe('exact numbers', () => {
  test.each([
    ['{"policyItemId":1.0000000000000001,"assetIds":[5]}', 'policyItemId: 1.0000000000000001'],
    ['{"policyItemId":4503599627370496.5,"assetIds":[5]}', 'policyItemId: 4503599627370496.5'],
    ['{"policyItemId":9007199254740993,"assetIds":[5]}', 'policyItemId: 9007199254740993'],
    ['{"policyItemId":5,"assetIds":[7,4503599627370496.5]}', 'assetIds[1]: 4503599627370496.5'],
    [
      '[{"policyItemId":5,"assetIds":[7]},{"policyItemId":2.00000000000000001,"assetIds":[7]}]',
      '#2: policyItemId: 2.00000000000000001',
    ],
  ])('%s is refused, naming the number as written; nothing is enqueued', async (payload, named) => {
    const before = await totalJobs();
    const res = await post(payload);
    expect(res.status).toBe(400);
    expect(res.body.problems.join('\n')).toContain(named);
    expect(await totalJobs()).toBe(before);
  });

  test('whole numbers written with a fraction or exponent are the numbers they say', async () => {
    const res = await post('{"policyItemId":7.0,"assetIds":[1e0,20E-1,3.000]}');
    expect(res.status).toBe(202);
    const job = await producer.queue.getJob(res.body.jobIds[0]);
    expect(job!.data).toEqual({ policyItemId: 7, assetIds: [1, 2, 3] });
    await job!.remove();
  });

  test('a key named twice is refused', async () => {
    const before = await totalJobs();
    const res = await post('{"policyItemId":1,"assetIds":[1],"policyItemId":2}');
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('duplicate key "policyItemId"');
    expect(await totalJobs()).toBe(before);
  });

  test('GET /v1/tasks takes policyItemId and limit in plain digits only', async () => {
    for (const q of [
      'policyItemId=1.0000000000000001',
      'policyItemId=1e3',
      'policyItemId=0x10',
      'policyItemId=%201',
      'limit=1.0',
      'limit=1e1',
    ]) {
      expect((await get(`/v1/tasks?${q}`)).status).toBe(400);
    }
    expect((await get('/v1/tasks?policyItemId=2&policyItemId=3')).status).toBe(400);
  });
});

test('a 400 lists the first 100 problems and says how many there were', async () => {
  const bad = Array.from({ length: 3000 }, () => ({ policyItemId: -1, assetIds: [], x: 1 }));
  const res = await post(JSON.stringify(bad));
  expect(res.status).toBe(400);
  expect(res.body.problems).toHaveLength(101);
  expect(res.body.problemCount).toBe(9000);
  expect(res.body.problems[100]).toBe('... and 8900 more problems');
  expect(res.text.length).toBeLessThan(20_000);
});

test('POSTs queue for the intake one at a time; clients that give up, waiting or not, hold up no one', async () => {
  const big = JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ policyItemId: 9, assetIds: [i + 1] })));
  const send = (signal?: AbortSignal) =>
    fetch(`${server.url}/v1/rescans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body: big,
      ...(signal ? { signal } : {}),
    });
  for (let round = 0; round < 3; round++) {
    const first = send();
    const quitters = Array.from({ length: 3 }, () => {
      const ac = new AbortController();
      const p = send(ac.signal).catch((e: Error) => e);
      setTimeout(() => ac.abort(), 20 + round * 40);
      return p;
    });
    expect((await first).status).toBe(202);
    await Promise.all(quitters);
  }
  // Every place was given back: a small POST gets in at once.
  const small = await post('{"policyItemId":9,"assetIds":[1]}');
  expect(small.status).toBe(202);
  await producer.queue.obliterate({ force: true }).catch(() => undefined);
}, 60_000);

describe('logins', () => {
  test('failed logins are limited per address (429 with Retry-After, even for the right password) and logged without the password', async () => {
    const { logger, lines } = capturingLogger();
    const own = await startServer(config({ SERVER_LOGIN_MAX_FAILURES: String(MAX_LOGIN_FAILURES) }), logger);
    const wrong = 'wrong-password-that-must-not-be-logged';
    try {
      // Requests without credentials (a browser's first try) are no failures.
      for (let i = 0; i < MAX_LOGIN_FAILURES + 2; i++) expect((await http(own.url, '/v1/tasks')).status).toBe(401);
      for (let i = 0; i < MAX_LOGIN_FAILURES - 1; i++) {
        expect(
          (await http(own.url, '/v1/tasks', { headers: { authorization: basicAuth('admin', wrong) } })).status,
        ).toBe(401);
      }
      expect((await http(own.url, '/v1/tasks', { headers: { authorization: `Bearer ${wrong}` } })).status).toBe(401);
      for (const headers of [
        { authorization: basicAuth('admin', wrong) },
        AUTH,
        { authorization: `Bearer ${TOKEN}` },
      ]) {
        const res = await http(own.url, '/v1/tasks', { headers });
        expect(res.status).toBe(429);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      const failures = lines().filter((l) => l.includes('"login failed"'));
      expect(failures).toHaveLength(MAX_LOGIN_FAILURES);
      expect(JSON.parse(failures[0]!)).toMatchObject({
        event: 'login_failed',
        address: expect.stringMatching(/127\.0\.0\.1/),
        scheme: 'basic',
        knownUser: true,
      });
      expect(lines().join('\n')).not.toContain(wrong);
      expect(lines().join('\n')).not.toContain(PASSWORD);
    } finally {
      await own.close();
    }
  });

  test('the dashboard and the API carry security headers a browser enforces', async () => {
    for (const path of ['/dashboard', '/v1/tasks', '/healthz']) {
      const res = await get(path);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
    }
  });

  test('with SERVER_AUTH=off only loopback Host values are accepted (no DNS rebinding)', async () => {
    const open = await startServer(config({ SERVER_AUTH: 'off' }), createLogger('silent'));
    const port = Number(new URL(open.url).port);
    const status = (host: string | undefined, path = '/v1/tasks') =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port, path, setHost: false, headers: host === undefined ? {} : { host } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    try {
      for (const host of [
        'evil.example',
        `evil.example:${port}`,
        '127.0.0.1.evil.example',
        `attacker.test:${port}`,
        '10.0.0.1',
        '',
      ]) {
        expect(await status(host)).toBe(421);
      }
      expect([400, 421]).toContain(await status(undefined)); // Node itself refuses HTTP/1.1 without Host
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`])
        expect(await status(host)).toBe(200);
    } finally {
      await open.close();
    }
  });
});

describe('/readyz', () => {
  test('without credentials it says only not ready and a reason code; the details need a login', async () => {
    const pausedKey = keys.pausedWorkers(cfg.queueName);
    const now = new Date().toISOString();
    // What a worker writes when the API refuses its credentials (src/pause.ts).
    await redis.hset(
      pausedKey,
      'worker-host-1234',
      JSON.stringify({
        code: 'AuthFailure.SecretIdNotFound',
        message: 'The SecretId is not found',
        requestId: 'req-secret-detail',
        at: now,
        seenAt: now,
      }),
    );
    try {
      const open = await get('/readyz', {});
      expect(open.status).toBe(503);
      // A status, a reason code and the Redis settings' findings as codes: nothing else.
      expect(open.body).toEqual({
        status: 'not ready',
        reason: 'workers_paused',
        redisSettings: { checked: true, persistence: 'none', problems: ['persistence'] },
      });
      for (const detail of ['worker-host-1234', 'req-secret-detail', 'SecretId', 'AuthFailure'])
        expect(open.text).not.toContain(detail);

      expect((await get('/v1/readiness', {})).status).toBe(401);
      const inside = await get('/v1/readiness');
      expect(inside.status).toBe(503);
      expect(inside.body).toMatchObject({
        status: 'not ready',
        reason: 'workers_paused',
        pausedWorkers: { 'worker-host-1234': { requestId: 'req-secret-detail' } },
      });
      expect(inside.body.detail).toContain('AuthFailure.SecretIdNotFound');
    } finally {
      await redis.del(pausedKey);
    }
    expect((await get('/readyz', {})).body).toMatchObject({ status: 'ready' });
  });
});
