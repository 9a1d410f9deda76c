/** The REDIS section of the configuration, and the connection options built from it. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config';
import { budgetId } from '../src/budget';
import { keys } from '../src/keys';
import { describeRedis, queuePrefix, redisConnectionWarnings, redisOptions } from '../src/redisConnection';
import { persistenceOf, settingProblems } from '../src/redisSettings';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('REDIS configuration', () => {
  test('single Redis from REDIS_URL: TLS, ACL user, password, db', () => {
    const c = loadConfig({ REDIS_URL: 'rediss://tcss:p%40ss@cache.example.com:6380/2' });
    expect(c.redis).toMatchObject({
      mode: 'single',
      host: 'cache.example.com',
      port: 6380,
      db: 2,
      username: 'tcss',
      password: 'p@ss',
      tls: true,
      tlsInsecure: false,
    });
    const o = redisOptions(c.redis, { maxRetriesPerRequest: 1 });
    expect(o).toMatchObject({
      host: 'cache.example.com',
      port: 6380,
      db: 2,
      username: 'tcss',
      password: 'p@ss',
      maxRetriesPerRequest: 1,
      tls: { rejectUnauthorized: true },
    });
    expect(JSON.stringify(describeRedis(c.redis))).not.toContain('p@ss');
    expect(queuePrefix(c.redis)).toBe('bull');
  });

  test('Sentinel: sentinels, name, TLS for both, the data nodes get the URL credentials', () => {
    const c = loadConfig({
      REDIS_URL: 'rediss://u:pw@x:1/1',
      REDIS_SENTINELS: 'h1:26379, h2:26380',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'spw',
    });
    expect(c.redis.mode).toBe('sentinel');
    expect(redisOptions(c.redis)).toMatchObject({
      sentinels: [
        { host: 'h1', port: 26379 },
        { host: 'h2', port: 26380 },
      ],
      name: 'mymaster',
      username: 'u',
      password: 'pw',
      sentinelPassword: 'spw',
      db: 1,
      enableTLSForSentinelMode: true,
      sentinelTLS: { rejectUnauthorized: true },
    });
  });

  test('Cluster: a hash-tagged BullMQ prefix; budget and record keys carry hash tags', () => {
    const c = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:6379,10.0.0.2:6379' });
    expect(c.redis.mode).toBe('cluster');
    expect(queuePrefix(c.redis)).toBe('{tcss-rescan}');
    const id = budgetId('AKID', 'tcss.example.com', 'Scan');
    const tag = /\{[^}]+\}/.exec(id)![0];
    for (const k of [
      keys.budgetRate(id),
      keys.budgetSends(id),
      `${keys.budgetSends(id)}:marker`,
      keys.bottleneckSettings(id),
    ])
      expect(/\{[^}]+\}/.exec(k)![0]).toBe(tag);
    for (const k of [
      keys.tasks('q1'),
      keys.jobTask('q1', { id: '1', timestamp: 5 }),
      keys.metrics('q1'),
      keys.pausedWorkers('q1'),
    ])
      expect(/\{[^}]+\}/.exec(k)![0]).toBe('{q1}');
  });

  test('certificate checking goes off only with REDIS_TLS_INSECURE=true, and says so', () => {
    const c = loadConfig({ REDIS_URL: 'rediss://h:6380', REDIS_TLS_INSECURE: 'true' });
    expect(redisOptions(c.redis).tls).toMatchObject({ rejectUnauthorized: false });
    expect(redisConnectionWarnings(c.redis).join()).toMatch(/NOT checked/);
    expect(redisConnectionWarnings(loadConfig({ REDIS_URL: 'rediss://h:6380' }).redis)).toEqual([]);
  });

  test('REDIS_TLS_CA_FILE is read at start', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ca-'));
    try {
      const pem = path.join(dir, 'ca.pem');
      writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
      const c = loadConfig({ REDIS_URL: 'rediss://h:6380', REDIS_TLS_CA_FILE: pem });
      expect(redisOptions(c.redis).tls).toMatchObject({
        ca: expect.stringContaining('BEGIN CERTIFICATE'),
        rejectUnauthorized: true,
      });
      writeFileSync(path.join(dir, 'empty.pem'), 'nothing');
      expect(problems({ REDIS_URL: 'rediss://h:6380', REDIS_TLS_CA_FILE: path.join(dir, 'empty.pem') })).toEqual([
        expect.stringMatching(/^REDIS_TLS_CA_FILE: expected a PEM file/),
      ]);
      expect(problems({ REDIS_URL: 'rediss://h:6380', REDIS_TLS_CA_FILE: path.join(dir, 'missing.pem') })).toEqual([
        expect.stringMatching(/^REDIS_TLS_CA_FILE: expected a readable PEM file.*ENOENT/),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    [{ REDIS_SENTINELS: 'h1:1' }, /^REDIS_SENTINELS: expected REDIS_SENTINEL_NAME to be set too/],
    [{ REDIS_SENTINEL_NAME: 'm' }, /^REDIS_SENTINEL_NAME: expected REDIS_SENTINELS/],
    [
      { REDIS_SENTINELS: 'h1:1', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'h:2' },
      /^REDIS_CLUSTER_NODES: expected either/,
    ],
    [{ REDIS_CLUSTER_NODES: 'h:2', REDIS_URL: 'redis://h:1/3' }, /^REDIS_URL: expected database 0/],
    [{ REDIS_CLUSTER_NODES: 'h' }, /^REDIS_CLUSTER_NODES: expected host:port/],
    [{ REDIS_SENTINELS: 'h:70000', REDIS_SENTINEL_NAME: 'm' }, /^REDIS_SENTINELS: expected host:port/],
    [{ REDIS_TLS_INSECURE: 'true' }, /^REDIS_TLS_INSECURE: expected REDIS_URL to start with rediss:\/\//],
    [{ REDIS_URL: 'redis://h:1/x' }, /^REDIS_URL: expected a database number/],
  ])('%j is refused, naming the variable', (env, message) => {
    expect(problems(env as Record<string, string>)).toEqual([expect.stringMatching(message)]);
  });

  test('the password never appears in a problem', () => {
    expect(problems({ REDIS_URL: 'redis://u:secret-pw@h:1/x' }).join()).not.toContain('secret-pw');
    expect(problems({ REDIS_SENTINEL_PASSWORD: 'sentinel-secret' }).join()).not.toContain('sentinel-secret');
  });
});

describe('Redis settings rules', () => {
  test('noeviction and some persistence are fine; anything else comes with its fix', () => {
    expect(settingProblems('noeviction', 'yes', '')).toEqual([]);
    expect(settingProblems('noeviction', 'no', '3600 1')).toEqual([]);
    expect(settingProblems('allkeys-lru', 'no', '').map((p) => p.setting)).toEqual(['maxmemory-policy', 'persistence']);
    expect(settingProblems('volatile-lru', 'yes', '')[0]!.fix).toMatch(/^CONFIG SET maxmemory-policy noeviction/);
    expect(persistenceOf('yes', '3600 1')).toBe('aof+rdb');
    expect(persistenceOf('no', '')).toBe('none');
  });
});
