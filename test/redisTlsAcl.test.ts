/**
 * TLS and ACL: a redis-server with TLS only for the service (certificates made by the test with
 * openssl, a self-signed CA) and an ACL user limited to the keys and channels we use (the list in
 * docs/production-redis.md). Producer, worker, HTTP server and CLI all connect with
 * rediss://user:password@host:port and REDIS_TLS_CA_FILE; the budget's Bottleneck connection too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { loadConfig, type Config } from '../src/config';
import { createLogger } from '../src/logger';
import { RescanProducer } from '../src/producer';
import { RecordStore } from '../src/records';
import { createRedis } from '../src/redisConnection';
import { checkRedisSettings } from '../src/redisSettings';
import { startServer } from '../src/server/run';
import { startSimulator, type Simulator } from '../src/simulator';
import { RescanWorker } from '../src/worker';
import { runCli } from './support/cliRun';
import { uniqueName, waitFor } from './support/redis';
import { startTlsRedis, type TlsRedis } from './support/redisTopology';

jest.setTimeout(90_000);

const PASSWORD = 'tcss-pw-' + Math.random().toString(36).slice(2);
/** The ACL rule documented in docs/production-redis.md (key and channel patterns, commands). */
const ACL_RULE = `on >${PASSWORD} resetkeys ~bull:* ~{tcss-rescan}:* ~tcss-rescan:* ~b_tcss-rescan:* resetchannels &b_tcss-rescan:* -@all +@read +@write +@stream +@list +@hash +@set +@sortedset +@string +@keyspace +@scripting +@transaction +@pubsub +@connection +info +time -flushall -flushdb -keys`;

let redis: TlsRedis;
let sim: Simulator;
let cwd: string;

beforeAll(async () => {
  redis = await startTlsRedis([`tcss ${ACL_RULE}`, `tcss-config ${ACL_RULE} +config|get`]);
  sim = await startSimulator({ port: 0 });
  cwd = mkdtempSync(path.join(os.tmpdir(), 'tcss-rescan-tls-cli-'));
});

afterAll(async () => {
  await sim?.close();
  await redis?.stop();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

function env(queueName: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: `rediss://tcss:${PASSWORD}@127.0.0.1:${redis.tlsPort}`,
    REDIS_TLS_CA_FILE: redis.caFile,
    QUEUE_NAME: queueName,
    TCSS_ENDPOINT: sim.url,
    WORKER_CONCURRENCY: '16',
    SERVER_PORT: '0',
    SERVER_API_TOKEN: 'x'.repeat(32),
    ...extra,
  };
}

test('producer, worker (and its budget), server and CLI work over TLS as an ACL user limited to our keys', async () => {
  const queueName = uniqueName('tls');
  const cfg: Config = loadConfig(env(queueName));
  expect(cfg.redis).toMatchObject({ mode: 'single', tls: true, username: 'tcss', tlsInsecure: false });
  const logger = createLogger('silent');
  const producer = new RescanProducer({ redis: cfg.redis, queueName });
  const worker = await RescanWorker.start({ config: cfg, logger });
  const server = await startServer(cfg, logger);
  const client = createRedis(cfg.redis, { maxRetriesPerRequest: 1 });
  try {
    await producer.enqueueMany(
      Array.from({ length: 30 }, (_, i) => ({ policyItemId: 100 + (i % 3), assetIds: [i + 1] })),
    );
    await waitFor(
      async () => (await producer.queue.getJobCounts('completed')).completed === 30,
      45_000,
      200,
      '30 jobs completed over TLS',
    );
    const store = new RecordStore(client, { queueName, maxLen: 1000, ttlSeconds: 60 });
    expect((await store.list({ limit: 100 })).records.flatMap((r) => r.jobIds)).toHaveLength(30);

    // The budget's keys were written as the ACL user (Bottleneck's connection went over TLS too).
    const budgetKeys = await redis.admin.keys('b_tcss-rescan:budget:{*}_settings');
    expect(budgetKeys.length).toBeGreaterThan(0);
    // Everything the service wrote matches the ACL's key patterns (the admin sees all keys).
    const all = await redis.admin.keys('*');
    expect(all.filter((k) => !/^(bull:|\{tcss-rescan\}:|tcss-rescan:|b_tcss-rescan:)/.test(k))).toEqual([]);

    // The server: ready, and it says it could not check the settings (this user may not CONFIG GET).
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { redisSettings: { checked: boolean } }).redisSettings.checked).toBe(false);
    // Why, behind login.
    const details = await fetch(`${server.url}/v1/readiness`, {
      headers: { authorization: `Bearer ${'x'.repeat(32)}` },
    });
    const body = (await details.json()) as { redisSettings: { checked: boolean; note: string } };
    expect(body.redisSettings.checked).toBe(false);
    expect(body.redisSettings.note).toMatch(/could not check the Redis settings.*NOPERM/);

    // The CLI, as its own process.
    const status = runCli(['status'], { queueName, cwd, env: env(queueName) });
    expect(status.stderr).toBe('');
    expect(status.stdout).toMatch(/completed\s+30/);
    expect(status.stdout).toMatch(/redis: could not check/);
    const tasks = runCli(['tasks', '--json', '--limit', '100'], { queueName, cwd, env: env(queueName) });
    expect(
      tasks.stdout
        .trim()
        .split('\n')
        .flatMap((l) => (JSON.parse(l) as { jobIds: string[] }).jobIds),
    ).toHaveLength(30);
  } finally {
    await server.close();
    await worker.close();
    await producer.queue.obliterate({ force: true }).catch(() => undefined);
    await producer.close();
    client.disconnect();
  }
});

test('the ACL user cannot touch keys outside the list', async () => {
  const cfg = loadConfig(env(uniqueName('tls')));
  const client = createRedis(cfg.redis, { maxRetriesPerRequest: 1 });
  try {
    await expect(client.set('someone-else:key', '1')).rejects.toThrow(/NOPERM/);
    await expect(client.flushall()).rejects.toThrow(/NOPERM/);
  } finally {
    client.disconnect();
  }
});

test('with CONFIG GET allowed, the settings are read: persistence off is reported with the fix', async () => {
  const cfg = loadConfig(
    env(uniqueName('tls'), { REDIS_URL: `rediss://tcss-config:${PASSWORD}@127.0.0.1:${redis.tlsPort}` }),
  );
  const client = createRedis(cfg.redis, { maxRetriesPerRequest: 1 });
  try {
    const report = await checkRedisSettings(client);
    expect(report).toMatchObject({ checked: true, persistence: 'none' });
    expect(report.problems).toEqual([
      expect.objectContaining({ setting: 'persistence', fix: expect.stringContaining('CONFIG SET appendonly yes') }),
    ]);
    await redis.admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    const lru = await checkRedisSettings(client);
    expect(lru.problems.map((p) => p.setting)).toContain('maxmemory-policy');
    expect(lru.problems.find((p) => p.setting === 'maxmemory-policy')!.fix).toMatch(
      /CONFIG SET maxmemory-policy noeviction/,
    );
  } finally {
    await redis.admin.config('SET', 'maxmemory-policy', 'noeviction');
    client.disconnect();
  }
});

test('the certificate is checked: without the CA the connection is refused; REDIS_TLS_INSECURE=true is the only way round', async () => {
  const noCa = loadConfig({ REDIS_URL: `rediss://tcss:${PASSWORD}@127.0.0.1:${redis.tlsPort}` });
  const strict = createRedis(noCa.redis, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  const errors: string[] = [];
  strict.on('error', (err: Error) => errors.push(err.message));
  await expect(strict.connect()).rejects.toThrow();
  strict.disconnect();
  expect(errors.join('\n')).toMatch(/self[- ]signed|certificate/i);

  const insecure = loadConfig({
    REDIS_URL: `rediss://tcss:${PASSWORD}@127.0.0.1:${redis.tlsPort}`,
    REDIS_TLS_INSECURE: 'true',
  });
  const loose = createRedis(insecure.redis, { maxRetriesPerRequest: 1 });
  try {
    expect(await loose.ping()).toBe('PONG');
  } finally {
    loose.disconnect();
  }
  // A plain client on the TLS port gets nowhere (the server speaks only TLS there).
  const plain = new IORedis({
    host: '127.0.0.1',
    port: redis.tlsPort,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
    connectTimeout: 1000,
  });
  plain.on('error', () => undefined);
  await expect(plain.connect().then(() => plain.ping())).rejects.toThrow();
  plain.disconnect();
});
