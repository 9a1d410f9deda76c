/**
 * The HTTP server over real HTTP (Fastify inject is not used: auth, body limits and the dashboard go
 * through the real stack), on the suite's Redis, with a real worker and the simulator behind it.
 */
import type { Redis } from 'ioredis';
import { ConfigError, loadConfig, requireServerAccess, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { RescanProducer } from '../../src/producer';
import { startServer, type RunningServer } from '../../src/server/run';
import { startSimulator, type Simulator } from '../../src/simulator';
import { RescanWorker } from '../../src/worker';
import { listeningAddresses, nonLoopbackAddresses, tryConnect, withOpenListener } from '../support/listening';
import { basicAuth, fetchAnswer } from '../support/http';
import { deleteQueueKeys, redisClient, testRedisUrl, uniqueName, waitFor } from '../support/redis';

jest.setTimeout(60_000);

const PASSWORD = 'correct-horse-battery';
const TOKEN = 'token-0123456789-0123456789-abcdef';

let sim: Simulator;
let cfg: Config;
let server: RunningServer;
let worker: RescanWorker;
let producer: RescanProducer;
let redis: Redis;
const logger = createLogger('silent');

const AUTH = { authorization: basicAuth('admin', PASSWORD) };

const http = (path: string, init: RequestInit = {}) => fetchAnswer(server.url + path, init);

/** Every job the queue holds, in any state (jobs only move between states while the worker runs). */
const totalJobs = async () => Object.values(await producer.queue.getJobCounts()).reduce((a, b) => a + b, 0);

const postJson = (path: string, payload: unknown, headers: Record<string, string> = AUTH) =>
  http(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
  cfg = loadConfig({
    REDIS_URL: testRedisUrl(),
    QUEUE_NAME: uniqueName('srv'),
    TCSS_ENDPOINT: sim.url,
    SERVER_PORT: '0',
    SERVER_PASSWORD: PASSWORD,
    SERVER_API_TOKEN: TOKEN,
    SERVER_BODY_LIMIT_BYTES: '4096',
    // The access tests try many wrong passwords from 127.0.0.1 (the limit is tested in serverHardening).
    SERVER_LOGIN_MAX_FAILURES: '1000',
  });
  server = await startServer(cfg, logger);
  worker = await RescanWorker.start({ config: cfg, logger });
  producer = new RescanProducer({ redisUrl: cfg.redisUrl, queueName: cfg.queueName });
  redis = redisClient();
});

afterAll(async () => {
  await server.close();
  await worker.close();
  await producer.queue.obliterate({ force: true });
  await producer.close();
  await deleteQueueKeys(redis, cfg.queueName);
  await redis.quit();
  await sim.close();
});

describe('access', () => {
  test.each(['/v1/tasks', '/v1/rescans/1', '/metrics', '/dashboard'])(
    '%s needs credentials (401 without, 401 with wrong ones)',
    async (path) => {
      expect((await http(path)).status).toBe(401);
      expect((await http(path, { headers: { authorization: basicAuth('admin', 'wrong-password-here') } })).status).toBe(
        401,
      );
      expect((await http(path, { headers: { authorization: basicAuth('root', PASSWORD) } })).status).toBe(401);
      expect((await http(path, { headers: { authorization: 'Bearer not-the-token-not-the-token' } })).status).toBe(401);
    },
  );

  test('POST /v1/rescans needs credentials and enqueues nothing without them', async () => {
    const before = await totalJobs();
    expect((await postJson('/v1/rescans', { policyItemId: 1, assetIds: [1] }, {})).status).toBe(401);
    expect(await totalJobs()).toBe(before);
  });

  test('basic auth asks the browser for a login', async () => {
    const res = await http('/dashboard');
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="tcss-rescan"/);
  });

  test('basic auth and the bearer token both get in', async () => {
    expect((await http('/v1/tasks', { headers: AUTH })).status).toBe(200);
    expect((await http('/v1/tasks', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
  });

  test('probes are open', async () => {
    expect((await http('/healthz')).body).toEqual({ status: 'ok' });
    // Ready, with what the start-up check found (the suite's Redis runs without persistence).
    expect((await http('/readyz')).body).toEqual({
      status: 'ready',
      redisSettings: { checked: true, persistence: 'none', problems: ['persistence'] },
    });
    // The details (values found and the exact fix) are behind login.
    expect((await http('/v1/readiness', { headers: AUTH })).body).toMatchObject({
      status: 'ready',
      redisSettings: {
        checked: true,
        problems: [{ setting: 'persistence', fix: expect.stringContaining('appendonly yes') }],
      },
    });
  });

  test('the server refuses to start without credentials, unless on loopback with auth explicitly off', () => {
    const base = { REDIS_URL: testRedisUrl(), TCSS_ENDPOINT: sim.url };
    expect(() => requireServerAccess(loadConfig(base).server)).toThrow(ConfigError);
    expect(() => requireServerAccess(loadConfig(base).server)).toThrow(/SERVER_PASSWORD/);
    expect(() =>
      requireServerAccess(loadConfig({ ...base, SERVER_AUTH: 'off', SERVER_HOST: '0.0.0.0' }).server),
    ).toThrow(/SERVER_AUTH/);
    expect(() => requireServerAccess(loadConfig({ ...base, SERVER_AUTH: 'off' }).server)).not.toThrow();
    expect(() => loadConfig({ ...base, SERVER_PASSWORD: 'short' })).toThrow(
      /SERVER_PASSWORD: expected at least 12 characters, got \(hidden\)/,
    );
  });
});

describe('API', () => {
  test('a rescan enqueued over HTTP is processed, and GET /v1/rescans/:jobId returns its TaskId', async () => {
    const res = await postJson('/v1/rescans', {
      policyItemId: 2798,
      assetIds: [2202462, 2202462, 7],
      assetType: 'ASSET_CONTAINER',
    });
    expect(res.status).toBe(202);
    expect(res.body.jobIds).toHaveLength(1);
    const jobId = res.body.jobIds[0] as string;
    const done = await waitFor(async () => {
      const r = await http(`/v1/rescans/${jobId}`, { headers: AUTH });
      return r.body?.state === 'completed' ? r : undefined;
    }, 20_000);
    const issued = sim.calls().find((c) => c.taskId === done.body.taskId);
    expect(issued).toBeDefined();
    expect(issued!.assetIds).toEqual([2202462, 7]);
    expect(done.body).toMatchObject({
      jobId,
      state: 'completed',
      attempts: 1,
      requestId: issued!.requestId,
      lastError: null,
      data: { policyItemId: 2798, assetIds: [2202462, 7], assetType: 'ASSET_CONTAINER' },
    });

    const tasks = await http('/v1/tasks?policyItemId=2798', { headers: AUTH });
    expect(tasks.status).toBe(200);
    expect(tasks.body.tasks[0]).toMatchObject({ taskId: done.body.taskId, policyItemId: 2798, jobIds: [jobId] });
  });

  test('an array is accepted; a big request is split into jobs sharing a batch id', async () => {
    const many = Array.from({ length: 250 }, (_, i) => i + 1);
    const res = await postJson('/v1/rescans', [
      { policyItemId: 5, assetIds: [1] },
      { policyItemId: 6, assetIds: many },
    ]);
    expect(res.status).toBe(202);
    expect(res.body.jobIds).toHaveLength(1 + 3);
    expect(res.body.batchIds[0]).toBeNull();
    expect(res.body.batchIds[1]).toEqual(expect.any(String));
  });

  test('400 lists every problem, naming each rescan and field; nothing is enqueued', async () => {
    const before = await totalJobs();
    const res = await postJson('/v1/rescans', [
      { policyItemId: 1, assetIds: [1] },
      { policyItemId: -1, assetIds: [], assetType: 'NOPE', extra: true },
    ]);
    expect(res.status).toBe(400);
    expect(res.body.error).toContain('nothing was enqueued');
    expect(res.body.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^#2: policyItemId must be a positive whole number/),
        expect.stringMatching(/^#2: assetIds must contain at least one asset id/),
        expect.stringMatching(/^#2: assetType must be one of/),
        expect.stringMatching(/^#2: unknown field "extra"/),
      ]),
    );
    expect(await totalJobs()).toBe(before);
  });

  test('malformed JSON, an empty array and an oversized body are refused with a reason', async () => {
    const bad = await postJson('/v1/rescans', '{"policyItemId": 1,');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/JSON/i);
    expect((await postJson('/v1/rescans', [])).status).toBe(400);
    const big = await postJson('/v1/rescans', {
      policyItemId: 1,
      assetIds: Array.from({ length: 2000 }, (_, i) => i + 1),
    });
    expect(big.status).toBe(413);
  });

  test('GET /v1/rescans/:jobId answers 404 for an unknown job; /v1/tasks validates its query and paginates', async () => {
    expect((await http('/v1/rescans/does-not-exist', { headers: AUTH })).status).toBe(404);
    const bad = await http('/v1/tasks?policyItemId=abc&limit=0&cursor=x', { headers: AUTH });
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toHaveLength(3);
    await waitFor(async () => ((await producer.queue.getJobCounts('completed')).completed ?? 0) >= 5, 20_000);
    const first = await http('/v1/tasks?limit=2', { headers: AUTH });
    expect(first.body.tasks).toHaveLength(2);
    const second = await http(`/v1/tasks?limit=2&cursor=${first.body.next}`, { headers: AUTH });
    expect(second.body.tasks).toHaveLength(2);
    const ids = [...first.body.tasks, ...second.body.tasks].map((t: { id: string }) => t.id);
    expect(new Set(ids).size).toBe(4);
    expect(ids).toEqual([...ids].sort().reverse());
  });
});

describe('/metrics', () => {
  test('exposes the named series in Prometheus format', async () => {
    await waitFor(async () => ((await producer.queue.getJobCounts('completed')).completed ?? 0) >= 5, 20_000);
    const res = await http('/metrics', { headers: AUTH });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const m = res.text;
    expect(m).toMatch(/^tcss_rescan_calls_total\{queue="[^"]+",code="OK"\} [1-9]\d*$/m);
    expect(m).toMatch(/^# TYPE tcss_rescan_throttled_calls_total counter$/m);
    expect(m).toMatch(/^# TYPE tcss_rescan_retries_total counter$/m);
    expect(m).toMatch(/^tcss_rescan_call_duration_seconds_bucket\{queue="[^"]+",le="\+Inf"\} [1-9]\d*$/m);
    expect(m).toMatch(/^tcss_rescan_call_duration_seconds_count\{queue="[^"]+"\} [1-9]\d*$/m);
    expect(m).toMatch(/^tcss_rescan_jobs\{queue="[^"]+",state="completed"\} [1-9]\d*$/m);
    expect(m).toMatch(/^tcss_rescan_jobs\{queue="[^"]+",state="waiting"\} \d+$/m);
    expect(m).toMatch(/^tcss_rescan_limiter_rate_requests_per_second\{queue="[^"]+"\} 20$/m);
    expect(m).toMatch(/^tcss_rescan_paused_workers\{queue="[^"]+"\} 0$/m);
  });
});

describe('/readyz', () => {
  test('reports a worker paused by an AuthFailure, with the reason (details behind login)', async () => {
    sim.setFaults({ revokedSecretIds: ['AKIDsimulatorDEMO0000000000000000000'] });
    try {
      await producer.enqueue({ policyItemId: 77, assetIds: [1] });
      const res = await waitFor(async () => {
        const r = await http('/readyz');
        return r.status === 503 ? r : undefined;
      }, 20_000);
      // Open to anyone: only the reason code. The details are behind login.
      expect(res.body).toMatchObject({ status: 'not ready', reason: 'workers_paused' });
      expect(Object.keys(res.body).sort()).toEqual(['reason', 'redisSettings', 'status']);
      const details = await http('/v1/readiness', { headers: AUTH });
      expect(details.status).toBe(503);
      expect(details.body.detail).toContain('AuthFailure.SecretIdNotFound');
      expect(worker.pausedBecause()?.code).toBe('AuthFailure.SecretIdNotFound');
    } finally {
      sim.setFaults({ revokedSecretIds: [] });
    }
  });
});

describe('dashboard', () => {
  test('read-only mode refuses changes that the normal mode makes', async () => {
    const readOnly = await startServer(
      loadConfig({
        REDIS_URL: testRedisUrl(),
        QUEUE_NAME: cfg.queueName,
        TCSS_ENDPOINT: sim.url,
        SERVER_PORT: '0',
        SERVER_PASSWORD: PASSWORD,
        DASHBOARD_READ_ONLY: 'true',
        SERVER_LOGIN_MAX_FAILURES: '1000',
      }),
      logger,
    );
    try {
      const pause = (base: string) =>
        fetch(`${base}/dashboard/api/queues/${encodeURIComponent(cfg.queueName)}/pause`, {
          method: 'PUT',
          headers: AUTH,
        });
      const refused = await pause(readOnly.url);
      expect(refused.status).toBeGreaterThanOrEqual(400);
      expect(await producer.queue.isPaused()).toBe(false);
      // The same request on the normal server does pause the queue (so the refusal above is the mode).
      expect((await pause(server.url)).status).toBe(200);
      expect(await producer.queue.isPaused()).toBe(true);
    } finally {
      await producer.queue.resume();
      await readOnly.close();
    }
  });

  test('neither /metrics nor the dashboard API shows the SecretKey', async () => {
    const key = cfg.tcss.credentials!.secretKey;
    const metrics = await http('/metrics', { headers: AUTH });
    const queues = await http(
      '/dashboard/api/queues?activeQueue=' + encodeURIComponent(cfg.queueName) + '&status=completed',
      { headers: AUTH },
    );
    expect(metrics.status).toBe(200);
    expect(queues.status).toBe(200);
    expect(queues.text).toContain('taskId'); // the jobs, with their results, are in there
    expect(metrics.text + queues.text).not.toContain(key);
  });

  test('the server and the simulator listen on loopback unless told otherwise', async () => {
    // Both were started above without a host (cfg has no SERVER_HOST; the simulator no `host`).
    expect(loadConfig({}).server.host).toBe('127.0.0.1');
    expect(loadConfig({}).simulator.host).toBe('127.0.0.1');
    const ports = { server: Number(new URL(server.url).port), simulator: sim.port };
    for (const port of Object.values(ports)) {
      expect(await tryConnect('127.0.0.1', port)).toBe('connected');
      // What the kernel says the socket is bound to (Linux): loopback only, not 0.0.0.0 or ::.
      const bound = listeningAddresses(port);
      if (bound !== undefined) expect(bound).toEqual(['127.0.0.1']);
    }
    // From this machine's other addresses, refused; each address first shown to accept a listener on every interface.
    await withOpenListener(async (open) => {
      for (const address of nonLoopbackAddresses()) {
        if ((await tryConnect(address, open)) !== 'connected') continue; // unreachable anyway: proves nothing
        expect({
          address,
          server: await tryConnect(address, ports.server),
          simulator: await tryConnect(address, ports.simulator),
        }).toEqual({ address, server: 'refused', simulator: 'refused' });
      }
    });
  });
});
