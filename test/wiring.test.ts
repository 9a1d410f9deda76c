/**
 * What is built from a Config (src/wiring.ts, src/tcss/scanBudget.ts): each helper carries every
 * variable it is about to the object it builds, checked on those objects against the suite's Redis.
 */
import type { Redis } from 'ioredis';
import { budgetId } from '../src/budget';
import { loadConfig } from '../src/config';
import { DEMO_CREDENTIALS, DEMO_SECRET_ID, DEMO_SECRET_KEY } from '../src/demoKeys';
import { keys } from '../src/keys';
import { RescanProducer } from '../src/producer';
import { DEFAULT_RECORD_LIST_LIMIT } from '../src/records';
import * as simulator from '../src/simulator';
import { budgetIdFrom } from '../src/tcss/scanBudget';
import { producerOptionsFrom, recordStoreFrom, withDemoCredentials } from '../src/wiring';
import { deleteQueueKeys, redisClient, testRedisUrl, uniqueName } from './support/redis';

let redis: Redis;
beforeAll(() => {
  redis = redisClient();
});
afterAll(() => redis.quit());

test('producerOptionsFrom: the queue, the job options and the timeout of the configuration reach the producer', async () => {
  const queueName = uniqueName('test-wiring');
  const cfg = loadConfig({
    REDIS_URL: testRedisUrl(),
    QUEUE_NAME: queueName,
    TCSS_MAX_ASSETS_PER_CALL: '7',
    TCSS_MAX_ATTEMPTS: '3',
    TCSS_BACKOFF_MS: '1234',
    PRODUCER_TIMEOUT_MS: '4321',
  });
  const options = producerOptionsFrom(cfg);
  expect(options).toMatchObject({
    redisUrl: testRedisUrl(),
    redis: cfg.redis,
    queueName,
    maxAssetsPerCall: 7,
    maxAttempts: 3,
    backoffMs: 1234,
    timeoutMs: 4321,
  });
  const producer = new RescanProducer(options);
  try {
    expect(producer.queue.name).toBe(queueName);
    expect(producer.jobOptions()).toMatchObject({ attempts: 3, backoff: { delay: 1234 } });
    const { jobs } = await producer.enqueue({ policyItemId: 1, assetIds: Array.from({ length: 15 }, (_, i) => i + 1) });
    expect(jobs.map((j) => j.assetIds.length)).toEqual([7, 7, 1]);
  } finally {
    await producer.queue.obliterate({ force: true });
    await producer.close();
  }
});

test('recordStoreFrom: the queue, RECORDS_MAX_LEN and RECORD_TTL_DAYS of the configuration', async () => {
  const queueName = uniqueName('test-wiring');
  const store = recordStoreFrom(
    loadConfig({ QUEUE_NAME: queueName, RECORDS_MAX_LEN: '1000', RECORD_TTL_DAYS: '2' }),
    redis,
  );
  try {
    expect(store.streamKey).toBe(keys.tasks(queueName));
    const total = DEFAULT_RECORD_LIST_LIMIT + 10;
    for (let i = 1; i <= total; i++) {
      await store.save(
        {
          taskId: i,
          requestId: `r${i}`,
          policyItemId: 5,
          assetIds: [i],
          jobIds: [String(i)],
          calledAt: new Date().toISOString(),
        },
        [{ id: String(i), timestamp: i }],
      );
    }
    const ttl = await redis.ttl(keys.jobTask(queueName, { id: '1', timestamp: 1 }));
    expect(ttl).toBeGreaterThan(2 * 86_400 - 60);
    expect(ttl).toBeLessThanOrEqual(2 * 86_400);
    // Without a limit, a listing returns the documented default (the CLI's and the HTTP API's too).
    expect(DEFAULT_RECORD_LIST_LIMIT).toBe(50);
    const page = await store.list();
    expect(page.records).toHaveLength(DEFAULT_RECORD_LIST_LIMIT);
    expect(page.next).toBeDefined();
    expect((await store.list({ policyItemId: 5 })).records).toHaveLength(DEFAULT_RECORD_LIST_LIMIT);
  } finally {
    await deleteQueueKeys(redis, queueName);
  }
});

test('withDemoCredentials: the simulator as the endpoint and its demo pair, whatever keys were configured', () => {
  const cfg = loadConfig({
    TENCENTCLOUD_SECRET_ID: 'AKIDreal',
    TENCENTCLOUD_SECRET_KEY: 'realKey',
    TENCENTCLOUD_SESSION_TOKEN: 'tok',
    QUEUE_NAME: 'q1',
  });
  const demo = withDemoCredentials(cfg, 'http://127.0.0.1:4567');
  expect(demo.tcss).toMatchObject({
    credentialSource: 'demo',
    usingDemoCredentials: true,
    credentials: { secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY },
  });
  expect(demo.tcss.credentials).not.toHaveProperty('sessionToken');
  expect(demo.tcss.endpoint.href).toBe('http://127.0.0.1:4567/');
  // The rest as configured, and the configuration given is not changed.
  expect({ ...demo, tcss: cfg.tcss }).toEqual(cfg);
  expect({
    ...demo.tcss,
    endpoint: cfg.tcss.endpoint,
    credentials: cfg.tcss.credentials,
    usingDemoCredentials: false,
    credentialSource: 'env',
  }).toEqual(cfg.tcss);
  expect(cfg.tcss.credentials).toEqual({ secretId: 'AKIDreal', secretKey: 'realKey', sessionToken: 'tok' });
});

test('the demo pair the configuration uses is the pair the simulator accepts', () => {
  // Two copies until the simulator imports src/demoKeys.ts: they must not drift apart.
  expect(simulator.DEMO_SECRET_ID).toBe(DEMO_SECRET_ID);
  expect(simulator.DEMO_SECRET_KEY).toBe(DEMO_SECRET_KEY);
  expect(simulator.defaultSimulatorOptions.credentials).toContainEqual(
    expect.objectContaining({ ...DEMO_CREDENTIALS }),
  );
  expect(loadConfig({ TCSS_ENDPOINT: 'http://127.0.0.1:4010' }).tcss.credentials).toEqual({ ...DEMO_CREDENTIALS });
});

test('budgetIdFrom: one budget per principal and endpoint host, for the scan action, whatever else is configured', () => {
  const a = loadConfig({ TCSS_ENDPOINT: 'https://tcss.tencentcloudapi.com', QUEUE_NAME: 'q1', TCSS_RATE_LIMIT: '5' });
  const b = loadConfig({ TCSS_ENDPOINT: 'https://TCSS.tencentcloudapi.com/', QUEUE_NAME: 'q2' });
  const other = loadConfig({ TCSS_ENDPOINT: 'https://tcss.intl.tencentcloudapi.com' });
  expect(budgetIdFrom(a, 'uin:1')).toBe(budgetIdFrom(b, 'uin:1'));
  expect(budgetIdFrom(a, 'uin:1')).not.toBe(budgetIdFrom(a, 'uin:2'));
  expect(budgetIdFrom(a, 'uin:1')).not.toBe(budgetIdFrom(other, 'uin:1'));
  expect(budgetIdFrom(a, 'uin:1')).toBe(
    budgetId('uin:1', 'tcss.tencentcloudapi.com', 'ScanComplianceAssetsByPolicyItem'),
  );
});
