/**
 * Configuration (src/config/): defaults, one message per bad variable naming it and the value received,
 * all problems at once, secrets never echoed, and the credential rules. Every test passes an explicit
 * env object: nothing here reads process.env or `.env`.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { CONFIG_VARIABLES, ConfigError, loadConfig, requireCredentials, type Config } from '../src/config';
import { DEMO_SECRET_ID, DEMO_SECRET_KEY } from '../src/demoKeys';

/** The ConfigError loadConfig throws for `env` (fails the test when it does not throw one). */
function configError(env: NodeJS.ProcessEnv, load: (env: NodeJS.ProcessEnv) => unknown = loadConfig): ConfigError {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.name).toBe('ConfigError');
    expect(e.code).toBe('CONFIG_INVALID');
    for (const p of e.problems) expect(e.message).toContain(p);
    return e;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('loadConfig', () => {
  test('defaults for an empty environment', () => {
    const c: Config = loadConfig({});
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.queueName).toBe('tcss-rescan');
    expect(c.logLevel).toBe('info');
    // A tuning default that changes with benchmarks: only its shape is pinned here.
    expect(Number.isInteger(c.workerConcurrency) && c.workerConcurrency > 0).toBe(true);
    expect(c.recordsMaxLen).toBe(1_000_000);
    expect(c.recordTtlSeconds).toBe(30 * 86_400);
    expect(c.tcss.endpoint.href).toBe('https://tcss.intl.tencentcloudapi.com/');
    expect(c.tcss.rateLimit).toBe(20);
    expect(c.tcss.maxAssetsPerCall).toBe(100);
    expect(c.tcss.timeoutMs).toBe(10_000);
    expect(c.tcss.maxAttempts).toBe(6);
    expect(c.tcss.backoffMs).toBe(1_000);
    expect(c.tcss.maxInFlight).toBe(40);
    expect(c.tcss.region).toBeUndefined();
    expect(c.tcss.credentials).toBeUndefined();
    expect(c.tcss.usingDemoCredentials).toBe(false);
    expect(c.simulator).toMatchObject({
      host: '127.0.0.1',
      port: 4010,
      rateLimit: 20,
      errorRate: 0,
      errorCode: 'InternalError',
      countThrottled: true,
    });
  });

  test('values given are parsed and typed', () => {
    const c = loadConfig({
      REDIS_URL: 'rediss://cache.example.com:6380/2',
      QUEUE_NAME: 'rescans.eu-1',
      TCSS_RATE_LIMIT: ' 10 ',
      TCSS_REGION: 'ap-guangzhou',
      LOG_LEVEL: 'debug',
      SIM_COUNT_THROTTLED: 'No',
      SIM_ERROR_RATE: '0.25',
      RECORD_TTL_DAYS: '2',
    });
    expect(c.redisUrl).toBe('rediss://cache.example.com:6380/2');
    expect(c.queueName).toBe('rescans.eu-1');
    expect(c.tcss.rateLimit).toBe(10);
    expect(c.tcss.region).toBe('ap-guangzhou');
    expect(c.logLevel).toBe('debug');
    expect(c.simulator.countThrottled).toBe(false);
    expect(c.simulator.errorRate).toBe(0.25);
    expect(c.recordTtlSeconds).toBe(2 * 86_400);
  });

  test.each([
    ['TCSS_RATE_LIMIT', 'abc'],
    ['TCSS_RATE_LIMIT', '0'],
    ['TCSS_RATE_LIMIT', '2.5'],
    ['TCSS_RATE_LIMIT', '1001'],
    ['REDIS_URL', 'http://x'],
    ['REDIS_URL', 'nope'],
    ['TCSS_ENDPOINT', 'ftp://x'],
    ['TCSS_ENDPOINT', 'https://tcss.example.com/api'],
    ['TCSS_ENDPOINT', 'https://tcss.example.com/?a=1'],
    ['LOG_LEVEL', 'loud'],
    ['WORKER_CONCURRENCY', '-1'],
    ['SIM_ERROR_RATE', '2'],
    ['SIM_COUNT_THROTTLED', 'maybe'],
    ['QUEUE_NAME', 'has space'],
    ['TCSS_REGION', 'Guangzhou'],
    ['RECORDS_MAX_LEN', '10'],
  ])('%s=%s is refused, naming the variable and the value received', (name, value) => {
    const e = configError({ [name]: value });
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatch(new RegExp(`^${name}: expected `));
    expect(e.problems[0]).toContain(`got ${JSON.stringify(value)}`);
  });

  test('several bad values are all reported together', () => {
    const env = {
      TCSS_RATE_LIMIT: 'abc',
      REDIS_URL: 'http://x',
      TCSS_ENDPOINT: 'ftp://x',
      LOG_LEVEL: 'loud',
      WORKER_CONCURRENCY: '-1',
      SIM_ERROR_RATE: '2',
    };
    const e = configError(env);
    expect(e.problems).toHaveLength(Object.keys(env).length);
    for (const [name, value] of Object.entries(env)) {
      expect(e.problems.filter((p) => p.startsWith(`${name}:`) && p.includes(JSON.stringify(value)))).toHaveLength(1);
    }
  });

  test('bad values found by different checks are still reported together', () => {
    const e = configError({
      TCSS_RATE_LIMIT: 'abc',
      TCSS_ENDPOINT: 'https://tcss.example.com/api',
      TENCENTCLOUD_SECRET_ID: 'AKIDonly',
    });
    expect(e.problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'TCSS_ENDPOINT',
      'TCSS_RATE_LIMIT',
      'TENCENTCLOUD_SECRET_KEY',
    ]);
  });

  test('the TENCENTCLOUD_SECRET_KEY value never appears in an error', () => {
    const secret = 'S3cretKeyValue-9f8e7d6c5b4a';
    const token = 'SessionTokenValue-0a1b2c3d';
    const envs: NodeJS.ProcessEnv[] = [
      { TENCENTCLOUD_SECRET_KEY: secret },
      { TENCENTCLOUD_SECRET_KEY: secret, TENCENTCLOUD_SESSION_TOKEN: token, TCSS_RATE_LIMIT: 'abc', REDIS_URL: 'nope' },
      {
        TENCENTCLOUD_SECRET_ID: 'AKIDx',
        TENCENTCLOUD_SECRET_KEY: secret,
        TENCENTCLOUD_SESSION_TOKEN: token,
        TCSS_ENDPOINT: 'https://tcss.example.com/x',
      },
    ];
    for (const env of envs) {
      const e = configError(env);
      const text = [e.message, e.stack ?? '', ...e.problems, JSON.stringify(e)].join('\n');
      expect(text).not.toContain(secret);
      expect(text).not.toContain(token);
    }
  });

  test('only one of TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY is an error naming the missing one', () => {
    expect(configError({ TENCENTCLOUD_SECRET_ID: 'AKIDx' }).problems).toEqual([
      expect.stringMatching(/^TENCENTCLOUD_SECRET_KEY: .*TENCENTCLOUD_SECRET_ID/),
    ]);
    expect(configError({ TENCENTCLOUD_SECRET_KEY: 'k' }).problems).toEqual([
      expect.stringMatching(/^TENCENTCLOUD_SECRET_ID: .*TENCENTCLOUD_SECRET_KEY/),
    ]);
    // Empty counts as unset here too.
    expect(configError({ TENCENTCLOUD_SECRET_ID: 'AKIDx', TENCENTCLOUD_SECRET_KEY: '' }).problems[0]).toMatch(
      /^TENCENTCLOUD_SECRET_KEY:/,
    );
  });

  test('a full key pair (and session token) is used as given', () => {
    const c = loadConfig({
      TENCENTCLOUD_SECRET_ID: 'AKIDx',
      TENCENTCLOUD_SECRET_KEY: 'k',
      TENCENTCLOUD_SESSION_TOKEN: 't',
      TCSS_ENDPOINT: 'http://127.0.0.1:4010',
    });
    expect(c.tcss.credentials).toEqual({ secretId: 'AKIDx', secretKey: 'k', sessionToken: 't' });
    expect(c.tcss.usingDemoCredentials).toBe(false);
    expect(requireCredentials(c.tcss)).toBe(c.tcss.credentials);
  });

  test.each(['http://127.0.0.1:4010', 'http://localhost:4010', 'http://[::1]:4010', 'http://127.0.0.2'])(
    'no credentials and a loopback endpoint (%s) -> the simulator demo pair',
    (endpoint) => {
      const c = loadConfig({ TCSS_ENDPOINT: endpoint });
      expect(c.tcss.usingDemoCredentials).toBe(true);
      expect(c.tcss.credentials).toEqual({ secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY });
      expect(requireCredentials(c.tcss)).toEqual({ secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY });
    },
  );

  test('no credentials and a Tencent endpoint: loading works (producers need none), requireCredentials names TENCENTCLOUD_SECRET_ID', () => {
    for (const env of [{}, { TCSS_ENDPOINT: 'https://tcss.tencentcloudapi.com' }]) {
      const c = loadConfig(env);
      expect(c.tcss.credentials).toBeUndefined();
      expect(c.tcss.usingDemoCredentials).toBe(false);
      const e = configError(env, (x) => requireCredentials(loadConfig(x).tcss));
      expect(e.problems[0]).toMatch(/^TENCENTCLOUD_SECRET_ID:/);
      expect(e.message).toContain('TENCENTCLOUD_SECRET_KEY');
      expect(e.message).toContain(c.tcss.endpoint.origin);
    }
  });

  test('empty (or blank) strings are treated as unset', () => {
    const env: NodeJS.ProcessEnv = {};
    for (const name of CONFIG_VARIABLES) env[name] = '';
    env.TCSS_RATE_LIMIT = '   ';
    const c = loadConfig(env);
    expect(c).toEqual(loadConfig({}));
    expect(c.tcss.credentials).toBeUndefined();
  });

  test('variables it does not know are ignored', () => {
    expect(loadConfig({ PATH: '/bin', TCSS_RATE_LIMIT_TYPO: 'x' })).toEqual(loadConfig({}));
  });
});

test('loading the configuration or the public entry point loads neither the simulator nor the server', () => {
  // The built package (npm test builds it first), as a user's `require('tcss-rescan')` loads it.
  const script = `require('./dist/index.js'); require('./dist/config/index.js'); process.stdout.write(JSON.stringify(Object.keys(require.cache)))`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const loaded = (JSON.parse(r.stdout) as string[]).map((f) => path.relative(path.join(__dirname, '..'), f));
  expect(loaded).toContain(path.join('dist', 'config', 'index.js'));
  expect(loaded).toContain(path.join('dist', 'demoKeys.js'));
  expect(
    loaded.filter((f) => f.startsWith(path.join('dist', 'simulator')) || f.startsWith(path.join('dist', 'server'))),
  ).toEqual([]);
});
