/**
 * `SERVER_AUTH=off`, as the README promises it (Running the service, Configuration, Security;
 * docs/security.md): the server refuses to start without SERVER_PASSWORD or SERVER_API_TOKEN unless
 * `SERVER_AUTH=off` says so explicitly, and `off` is refused unless SERVER_HOST is loopback; with it,
 * on loopback, the API, the dashboard and /metrics serve without credentials, and only loopback Host
 * values are accepted (no DNS rebinding). Through the built CLI (`tcss-rescan serve` / `start`), on the
 * suite's Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { RescanProducer } from '../../src/producer';
import { freePort } from '../../src/redisServer';
import { CLI_PATH, cliEnv, runCliAsync } from '../support/cliRun';
import { deleteQueueKeys, redisClient, testRedisUrl, uniqueName, waitFor } from '../support/redis';

jest.setTimeout(60_000);

const queueName = uniqueName('auth-off');
let cwd: string;
let producer: RescanProducer;

beforeAll(() => {
  // A directory of its own, so that no stray `.env` is read.
  cwd = mkdtempSync(path.join(os.tmpdir(), 'tcss-rescan-auth-off-'));
  producer = new RescanProducer({ redisUrl: testRedisUrl(), queueName });
});

afterAll(async () => {
  await producer.queue.obliterate({ force: true });
  await producer.close();
  const redis = redisClient();
  await deleteQueueKeys(redis, queueName);
  await redis.quit();
  rmSync(cwd, { recursive: true, force: true });
});

const totalJobs = async () => Object.values(await producer.queue.getJobCounts()).reduce((a, b) => a + b, 0);

/** Whether anything accepts a connection on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

describe('refused to start', () => {
  test.each(['serve', 'start'])(
    '`%s` with SERVER_AUTH=off on a non-loopback SERVER_HOST: exit 2 naming SERVER_AUTH, nothing listening',
    async (verb) => {
      const port = await freePort();
      const r = await runCliAsync([verb], {
        queueName,
        cwd,
        env: { SERVER_AUTH: 'off', SERVER_HOST: '0.0.0.0', SERVER_PORT: String(port), SIM_PORT: '0' },
      });
      expect(r.stderr).toContain(
        'SERVER_AUTH: expected on when SERVER_HOST is not loopback, got "off" with SERVER_HOST="0.0.0.0"',
      );
      expect(r.status).toBe(2);
      expect(await listening(port)).toBe(false);
      expect(await totalJobs()).toBe(0);
    },
  );

  test('`serve` on loopback without a password or token, auth not turned off: exit 2 naming SERVER_PASSWORD and the way out', async () => {
    const port = await freePort();
    const r = await runCliAsync(['serve'], { queueName, cwd, env: { SERVER_PORT: String(port) } });
    expect(r.stderr).toMatch(
      /SERVER_PASSWORD: expected a password .* got nothing; on loopback only, SERVER_AUTH=off turns auth off/,
    );
    expect(r.status).toBe(2);
    expect(await listening(port)).toBe(false);
  });
});

describe('`serve` with SERVER_AUTH=off on loopback', () => {
  let child: ChildProcess;
  let out = '';
  let base: string;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    // A password is set too: `off` still means no login (the operator said so explicitly).
    child = spawn(process.execPath, [CLI_PATH, 'serve'], {
      cwd,
      env: cliEnv(queueName, {
        SERVER_AUTH: 'off',
        SERVER_PORT: String(port),
        SERVER_PASSWORD: 'a-password-nobody-is-asked-for',
        LOG_LEVEL: 'info',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    await waitFor(
      () => out.includes('"msg":"server listening"') || child.exitCode !== null,
      20_000,
      50,
      'the server to listen',
    );
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  test('it says auth is off', () => {
    const line = out.split('\n').find((l) => l.includes('"msg":"server listening"'));
    expect(line && JSON.parse(line)).toMatchObject({ auth: 'off', url: `http://127.0.0.1:${port}` });
  });

  test('the API, /metrics and the dashboard serve without credentials: a rescan is enqueued and read back, the queue paused and resumed', async () => {
    const posted = await fetch(`${base}/v1/rescans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ policyItemId: 77, assetIds: [1, 2] }),
    });
    expect(posted.status).toBe(202);
    const { jobIds } = (await posted.json()) as { jobIds: string[] };
    expect((await producer.queue.getJob(jobIds[0]!))!.data).toEqual({ policyItemId: 77, assetIds: [1, 2] });
    const read = await fetch(`${base}/v1/rescans/${jobIds[0]}`);
    expect([read.status, ((await read.json()) as { state: string }).state]).toEqual([200, 'waiting']);
    for (const p of [
      '/v1/tasks',
      '/v1/readiness',
      '/metrics',
      '/dashboard',
      `/dashboard/api/queues?activeQueue=${queueName}`,
    ]) {
      const res = await fetch(base + p);
      await res.arrayBuffer();
      expect([p, res.status]).toEqual([p, 200]);
    }
    const pause = await fetch(`${base}/dashboard/api/queues/${queueName}/pause`, { method: 'PUT' });
    expect(pause.status).toBe(200);
    expect(await producer.queue.isPaused()).toBe(true);
    await fetch(`${base}/dashboard/api/queues/${queueName}/resume`, { method: 'PUT' });
    expect(await producer.queue.isPaused()).toBe(false);
  });

  test('a request naming another Host (a web page that rebound its name to 127.0.0.1) is refused with 421 and enqueues nothing', async () => {
    const before = await totalJobs();
    const status = await new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ policyItemId: 78, assetIds: [3] });
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/rescans',
          method: 'POST',
          setHost: false,
          headers: {
            host: `attacker.example:${port}`,
            'content-type': 'application/json',
            'content-length': String(body.length),
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(421);
    expect(await totalJobs()).toBe(before);
  });

  test('SIGTERM stops it cleanly', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await listening(port)).toBe(false);
  });
});
