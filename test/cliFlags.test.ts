/**
 * The CLI's contract with people and scripts (dist/cli.js, spawned): --version, usage errors exit 2,
 * each verb's --help names its environment variables, --redis-url/--queue override the variables,
 * --priority within BullMQ's range, the enqueue file's limits (BOM, line length), input echoed back
 * with its control characters escaped, Redis down: exit 1 fast with JSON on stdout for every verb,
 * --idempotency-key, and sub-minute schedules refused unless allowed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { VERB_ENV } from '../src/cli/env';
import { CONFIG_VARIABLES } from '../src/config';
import { freePort } from '../src/redisServer';
import { runCliAsync, type CliResult } from './support/cliRun';
import { redisClient, testRedisUrl, uniqueName } from './support/redis';

jest.setTimeout(90_000);

let dir: string;
let queueName: string;
let queue: Queue;
let redis: Redis;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tcss-rescan-cliflags-'));
  redis = redisClient();
});
beforeEach(() => {
  queueName = uniqueName('test-cliflags');
  queue = new Queue(queueName, { connection: { url: testRedisUrl(), maxRetriesPerRequest: null } });
});
afterEach(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  const found = await redis.keys(`tcss-rescan:{${queueName}}:*`);
  if (found.length > 0) await redis.del(...found);
});
afterAll(async () => {
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], o: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> =>
  runCliAsync(args, { queueName, cwd: dir, ...o });

async function jobCount(q: Queue = queue): Promise<number> {
  const c = await q.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

function writeFile(name: string, content: string | Buffer): string {
  const p = path.join(dir, `${queueName}-${name}`);
  writeFileSync(p, content);
  return p;
}

test('--version prints the package version', async () => {
  const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  const r = await cli(['--version']);
  expect(r).toMatchObject({ status: 0, stdout: `${version}\n` });
});

test('usage errors exit 2: enqueue without flags, an unknown option, with --json as JSON on stdout', async () => {
  const [bare, bareJson, unknown, unknownJson] = await Promise.all([
    cli(['enqueue']),
    cli(['enqueue', '--json']),
    cli(['status', '--bogus']),
    cli(['status', '--json', '--bogus']),
  ]);
  expect(bare.status).toBe(2);
  expect(bare.stderr).toContain('--policy-item');
  expect(bareJson.status).toBe(2);
  expect(JSON.parse(bareJson.stdout)).toMatchObject({ code: 'USAGE', error: expect.stringContaining('--policy-item') });
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toContain('--bogus');
  expect(unknownJson.status).toBe(2);
  expect(JSON.parse(unknownJson.stdout)).toMatchObject({ code: 'USAGE', error: expect.stringContaining('--bogus') });
  expect(unknownJson.stderr).toBe('');
});

describe('--help', () => {
  test.each(Object.keys(VERB_ENV))(
    '%s --help names the environment variables it reads, all of them real',
    async (verb) => {
      const r = await cli([...verb.split(' '), '--help']);
      expect(r.status).toBe(0);
      const section = r.stdout.split('Environment variables')[1];
      expect(section).toBeDefined();
      const named = section!.match(/\b[A-Z][A-Z0-9_]{2,}\b/g) ?? [];
      expect(named.length).toBeGreaterThan(0);
      for (const n of named) expect(CONFIG_VARIABLES).toContain(n);
      for (const n of VERB_ENV[verb]!) expect(named).toContain(n);
    },
  );

  test.each(['enqueue', 'status', 'tasks', 'worker', 'serve', 'start', 'schedules sync', 'schedules list'])(
    '%s has --redis-url and --queue',
    async (verb) => {
      const r = await cli([...verb.split(' '), '--help']);
      expect(r.stdout).toContain('--redis-url <url>');
      expect(r.stdout).toContain('--queue <name>');
    },
  );
});

test('--redis-url and --queue override REDIS_URL and QUEUE_NAME, and are validated like them', async () => {
  const other = uniqueName('test-cliflags-other');
  const otherQueue = new Queue(other, { connection: { url: testRedisUrl(), maxRetriesPerRequest: null } });
  try {
    const r = await cli(
      ['enqueue', '--json', '--redis-url', testRedisUrl(), '--queue', other, '--policy-item', '1', '--assets', '1'],
      {
        env: { REDIS_URL: 'redis://127.0.0.1:1', QUEUE_NAME: queueName },
      },
    );
    expect(r).toMatchObject({ status: 0 });
    expect(JSON.parse(r.stdout)).toMatchObject({ queue: other, enqueued: 1 });
    expect(await jobCount(otherQueue)).toBe(1);
    expect(await jobCount()).toBe(0);
    const s = await cli(['status', '--json', '--queue', other]);
    expect(JSON.parse(s.stdout)).toMatchObject({ waiting: 1 });
    const bad = await cli(['status', '--redis-url', 'nope', '--queue', 'has space']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/REDIS_URL: .*"nope"/);
    expect(bad.stderr).toMatch(/QUEUE_NAME: .*"has space"/);
  } finally {
    await otherQueue.obliterate({ force: true });
    await otherQueue.close();
  }
});

test("--priority outside BullMQ's 1..2,097,151 is a usage error; the bounds themselves are accepted", async () => {
  const args = (p: string) => ['enqueue', '--json', '--policy-item', '1', '--assets', '1', '--priority', p];
  const [low, high, huge, max] = await Promise.all([
    cli(args('0')),
    cli(args('2097152')),
    cli(args('99999999999999999999')),
    cli(args('2097151')),
  ]);
  for (const r of [low, high, huge]) {
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ code: 'USAGE', error: expect.stringContaining('1 to 2,097,151') });
  }
  expect(max).toMatchObject({ status: 0 });
  const { jobIds } = JSON.parse(max.stdout) as { jobIds: string[] };
  expect((await queue.getJob(jobIds[0]!))?.opts.priority).toBe(2_097_151);
  expect(await jobCount()).toBe(1);
});

describe('the enqueue file', () => {
  test('a UTF-8 byte order mark is accepted', async () => {
    const f = writeFile(
      'bom.jsonl',
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from('{"policyItemId": 1, "assetIds": [1]}\n{"policyItemId": 2, "assetIds": [2]}\n'),
      ]),
    );
    const r = await cli(['enqueue', '--json', '--file', f]);
    expect(r).toMatchObject({ status: 0 });
    expect(JSON.parse(r.stdout)).toMatchObject({ enqueued: 2 });
  });

  test('a line over the length limit is refused without being parsed or echoed; nothing is enqueued', async () => {
    const long = `{"policyItemId": 1, "assetIds": [${Array.from({ length: 200_000 }, (_, i) => i + 1).join(',')}]}`;
    expect(long.length).toBeGreaterThan(1_048_576);
    const f = writeFile('long.jsonl', `{"policyItemId": 1, "assetIds": [1]}\n${long}\n`);
    const r = await cli(['enqueue', '--file', f]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/line 2: \d+ characters; at most 1048576 per line/);
    expect(r.stderr.length).toBeLessThan(2_000);
    expect(await jobCount()).toBe(0);
  });

  test('control characters in echoed input are escaped (text and --json)', async () => {
    const evil = '\u001b[2J\u001b]0;pwned\u0007\r\u009b31m\u202e';
    const f = writeFile(
      'evil.jsonl',
      `${JSON.stringify({ policyItemId: 1, assetIds: [1], assetType: evil })}\nnot json ${evil}\n`,
    );
    const [text, json, flags] = await Promise.all([
      cli(['enqueue', '--file', f]),
      cli(['enqueue', '--json', '--file', f]),
      cli(['enqueue', '--policy-item', '1', '--assets', `1,${evil}`]),
    ]);
    for (const r of [text, json, flags]) {
      expect(r.status).toBe(1);
      const out = r.stdout + r.stderr;
      // eslint-disable-next-line no-control-regex -- control characters are exactly what must not reach a terminal
      expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    }
    expect(text.stderr).toContain('\\u001b');
    expect(JSON.parse(json.stdout)).toMatchObject({
      problems: expect.arrayContaining([expect.stringContaining('line 1: assetType')]),
    });
    expect(await jobCount()).toBe(0);
  });
});

test('--idempotency-key: a retry returns the same job ids and enqueues nothing new; another request under it is refused', async () => {
  const args = ['enqueue', '--json', '--policy-item', '5', '--assets', '1,2', '--idempotency-key', 'cli-retry-1'];
  const first = await cli(args);
  const again = await cli(args);
  expect(first).toMatchObject({ status: 0 });
  expect(JSON.parse(again.stdout).jobIds).toEqual(JSON.parse(first.stdout).jobIds);
  expect(await jobCount()).toBe(1);
  const other = await cli([
    'enqueue',
    '--json',
    '--policy-item',
    '5',
    '--assets',
    '3',
    '--idempotency-key',
    'cli-retry-1',
  ]);
  expect(other.status).toBe(1);
  expect(JSON.parse(other.stdout)).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
  expect(await jobCount()).toBe(1);
});

test('Redis down: every Redis verb exits 1 within the bound, with --json the error as JSON on stdout', async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const sched = writeFile(
    's.yaml',
    'schedules:\n  - name: n\n    cron: "0 2 * * *"\n    policyItemId: 1\n    assetIds: [1]\n',
  );
  const verbs = [
    ['enqueue', '--policy-item', '1', '--assets', '1'],
    ['status'],
    ['tasks'],
    ['schedules', 'list'],
    ['schedules', 'sync', '--file', sched],
  ];
  // Each process is killed after 20 s (status null): today they all wait for Redis forever. Two at a
  // time, so that a loaded machine does not make the processes' own start-up hit that limit.
  const env = { REDIS_URL: url, PRODUCER_TIMEOUT_MS: '1000' };
  const results: CliResult[] = [];
  for (const v of verbs) results.push(...(await Promise.all([cli(v, { env }), cli([...v, '--json'], { env })])));
  results.forEach((r, i) => {
    const v = verbs[Math.floor(i / 2)]!.join(' ') + (i % 2 ? ' --json' : '');
    expect([v, r.status]).toEqual([v, 1]);
    if (i % 2) {
      expect([v, JSON.parse(r.stdout)]).toEqual([
        v,
        expect.objectContaining({ code: 'REDIS_UNAVAILABLE', error: expect.stringContaining(url) }),
      ]);
    } else {
      expect([v, r.stderr]).toEqual([v, expect.stringContaining('is unavailable')]);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});

test('schedules sync refuses a pattern firing more than once a minute unless --allow-sub-minute', async () => {
  const f = writeFile(
    'fast.yaml',
    'schedules:\n  - name: fast\n    cron: "*/10 * * * * *"\n    policyItemId: 1\n    assetIds: [1]\n',
  );
  const refused = await cli(['schedules', 'sync', '--json', '--file', f]);
  expect(refused.status).toBe(1);
  expect(JSON.parse(refused.stdout)).toMatchObject({
    problems: [expect.stringContaining('fires more than once a minute')],
  });
  expect(await queue.getJobSchedulersCount()).toBe(0);
  const allowed = await cli(['schedules', 'sync', '--json', '--allow-sub-minute', '--file', f]);
  expect(allowed).toMatchObject({ status: 0 });
  expect(await queue.getJobSchedulersCount()).toBe(1);
});
