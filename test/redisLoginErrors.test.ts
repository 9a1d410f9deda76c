/**
 * A Redis that refuses the login must never make us print its password. A redis-server of the test's
 * own with `requirepass` and a disabled ACL user; the CLI (every Redis verb, text and --json), a worker
 * process and the HTTP server connect with a wrong password and as the disabled user, and every
 * output is searched for the password. ioredis puts it in its errors (`hello ["3", "AUTH", user, pw]`),
 * so each output must also show that the refusal itself was reported (else the test proves nothing).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import { startRedisServer, type RedisServerHandle } from '../src/redisServer';
import { CLI_PATH, cliEnv, runCliAsync } from './support/cliRun';
import { startWorkerProcess } from './support/workerProcess';
import { uniqueName, waitFor } from './support/redis';

jest.setTimeout(90_000);

const ADMIN_PASSWORD = 'Adm1n-pw-QZ7x-not-to-be-seen';
const WRONG_PASSWORD = 'Wr0ng-pw-KJ3v-not-to-be-seen';
const DISABLED_PASSWORD = 'D1sabled-pw-HX9q-not-to-be-seen';

let redis: RedisServerHandle;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tcss-rescan-secrets-'));
  redis = await startRedisServer({ args: ['--requirepass', ADMIN_PASSWORD] });
  const admin = new IORedis(redis.port, '127.0.0.1', { password: ADMIN_PASSWORD, maxRetriesPerRequest: 1 });
  await admin.call('ACL', 'SETUSER', 'rescanner', 'off', `>${DISABLED_PASSWORD}`, '~*', '&*', '+@all');
  await admin.quit();
});

afterAll(async () => {
  await redis.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

const LOGINS = [
  { what: 'a wrong password', url: () => `redis://:${WRONG_PASSWORD}@127.0.0.1:${redis.port}`, secret: WRONG_PASSWORD },
  {
    what: 'a disabled ACL user',
    url: () => `redis://rescanner:${DISABLED_PASSWORD}@127.0.0.1:${redis.port}`,
    secret: DISABLED_PASSWORD,
  },
];

function expectNoSecret(output: string, secret: string): void {
  expect(output).not.toContain(secret);
  expect(output).not.toContain(encodeURIComponent(secret));
  expect(output).not.toContain(ADMIN_PASSWORD);
}

describe.each(LOGINS)('Redis refusing the login ($what)', ({ url, secret }) => {
  const VERBS = [
    ['enqueue', '--policy-item', '1', '--assets', '1'],
    ['enqueue', '--json', '--policy-item', '1', '--assets', '1'],
    ['status'],
    ['status', '--json'],
    ['tasks'],
    ['tasks', '--json'],
    ['schedules', 'list'],
  ];

  test('the CLI: every verb exits 1 saying why, without the password (text and --json)', async () => {
    const results = await Promise.all(
      VERBS.map((args) =>
        runCliAsync(args, { queueName: uniqueName('secrets'), cwd: dir, env: { REDIS_URL: url(), LOG_LEVEL: 'info' } }),
      ),
    );
    results.forEach((r, i) => {
      const all = r.stdout + r.stderr;
      expect([VERBS[i]!.join(' '), r.status]).toEqual([VERBS[i]!.join(' '), 1]);
      expect(all).toContain('WRONGPASS');
      expectNoSecret(all, secret);
      if (VERBS[i]!.includes('--json')) {
        expect(JSON.parse(r.stdout)).toMatchObject({
          code: 'REDIS_UNAVAILABLE',
          error: expect.stringContaining('***@127.0.0.1'),
        });
        expect(r.stderr).toBe('');
      }
    });
  });

  test('a worker process: refused at start, it exits 1 within the bound saying why and what to do, without the password', async () => {
    const started = Date.now();
    const w = startWorkerProcess({
      REDIS_URL: url(),
      QUEUE_NAME: uniqueName('secrets'),
      TCSS_ENDPOINT: 'http://127.0.0.1:9',
      PRODUCER_TIMEOUT_MS: '2000',
    });
    try {
      expect(await w.exited).toBe(1);
    } finally {
      w.child.kill('SIGKILL');
    }
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(w.output()).toMatch(/WRONGPASS/);
    expect(w.output()).toContain('the worker did not start; fix the user and password in REDIS_URL');
    expectNoSecret(w.output(), secret);
  });

  test('the server: the API answers 503 with Retry-After, and neither answers nor logs show the password', async () => {
    const child = spawn(process.execPath, [CLI_PATH, 'serve'], {
      cwd: dir,
      env: cliEnv(uniqueName('secrets'), {
        REDIS_URL: url(),
        SERVER_AUTH: 'off',
        SERVER_PORT: '0',
        LOG_LEVEL: 'info',
        PRODUCER_TIMEOUT_MS: '1000',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const answers: string[] = [];
    try {
      const base = await waitFor(
        () => /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1],
        20_000,
        50,
        'the server to listen',
      );
      const post = await fetch(`${base}/v1/rescans`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ policyItemId: 1, assetIds: [1] }),
      });
      const postBody = await post.text();
      answers.push(postBody);
      expect(post.status).toBe(503);
      expect(post.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(JSON.parse(postBody)).toMatchObject({
        code: 'REDIS_UNAVAILABLE',
        error: expect.stringContaining('nothing was enqueued'),
      });
      for (const p of ['/v1/tasks', '/v1/rescans/1', '/readyz', '/metrics']) {
        const r = await fetch(base + p);
        answers.push(await r.text());
        expect([p, r.status]).toEqual([p, 503]);
      }
      await waitFor(() => output.includes('WRONGPASS'), 10_000, 100, 'the refusal in the log');
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    expectNoSecret(output, secret);
    for (const a of answers) expectNoSecret(a, secret);
  });
});
