/**
 * The CLI (dist/cli.js, built by `npm test`) as users run it: enqueue from flags, a file or stdin (all or
 * nothing), status and tasks as JSON, and exit codes 0 ok / 1 refused / 2 usage or configuration.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RecordStore } from '../src/records';
import { RescanProducer } from '../src/producer';
import type { RescanResult } from '../src/job';
import { jsonLines, runCli, runCliAsync, type CliResult } from './support/cliRun';
import { redisClient, testRedisUrl, uniqueName } from './support/redis';

let dir: string;
let redis: Redis;
let queueName: string;
let queue: Queue;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tcss-rescan-cli-test-'));
  redis = redisClient();
});

beforeEach(() => {
  queueName = uniqueName('test-cli');
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

function cli(args: string[], o: { input?: string; env?: Record<string, string> } = {}): CliResult {
  return runCli(args, { queueName, cwd: dir, ...o });
}

function cliAsync(args: string[], o: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return runCliAsync(args, { queueName, cwd: dir, ...o });
}

function file(name: string, lines: string[]): string {
  const p = path.join(dir, `${queueName}-${name}`);
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

/** Jobs in any state: the CLI must not leave any behind when it refuses. */
async function jobCount(): Promise<number> {
  const c = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

describe('tcss-rescan enqueue', () => {
  test('from flags: exit 0, prints the job id, and the job is on the queue', async () => {
    const r = cli(['enqueue', '--policy-item', '2798', '--assets', '2202462,111', '--asset-type', 'ASSET_CONTAINER']);
    expect(r).toMatchObject({ status: 0 }); // on failure, shows stderr too
    const id = /enqueued job (\S+):/.exec(r.stdout)?.[1];
    expect(id).toBeDefined();
    expect(r.stdout).toContain(`1 job(s) enqueued on queue ${queueName}`);
    const job = await queue.getJob(id!);
    expect(job?.name).toBe('rescan');
    expect(job?.data).toEqual({ policyItemId: 2798, assetIds: [2202462, 111], assetType: 'ASSET_CONTAINER' });
    expect(await jobCount()).toBe(1);
  });

  test('--json prints {enqueued, jobIds, batchIds}', async () => {
    const r = cli(['enqueue', '--json', '--policy-item', '2798', '--assets', '5']);
    expect(r).toMatchObject({ status: 0 });
    const out = JSON.parse(r.stdout) as { enqueued: number; jobIds: string[]; batchIds: (string | null)[] };
    expect(out).toMatchObject({ enqueued: 1, jobIds: [expect.any(String)], batchIds: [null] });
    expect((await queue.getJob(out.jobIds[0]!))?.data).toEqual({ policyItemId: 2798, assetIds: [5] });
  });

  test('--json with a request split by TCSS_MAX_ASSETS_PER_CALL: one batchId for all its jobs', async () => {
    const r = cli(['enqueue', '--json', '--policy-item', '7', '--assets', '1,2,3,2,4,5'], {
      env: { TCSS_MAX_ASSETS_PER_CALL: '2' },
    });
    expect(r).toMatchObject({ status: 0 });
    const out = JSON.parse(r.stdout) as { enqueued: number; jobIds: string[]; batchIds: string[] };
    expect(out.enqueued).toBe(3);
    expect(out.batchIds).toEqual([expect.any(String)]);
    const jobs = await Promise.all(out.jobIds.map((id) => queue.getJob(id)));
    expect(jobs.map((j) => j?.data)).toEqual([
      { policyItemId: 7, assetIds: [1, 2], batchId: out.batchIds[0] },
      { policyItemId: 7, assetIds: [3, 4], batchId: out.batchIds[0] },
      { policyItemId: 7, assetIds: [5], batchId: out.batchIds[0] },
    ]);
  });

  test('--priority passes through', async () => {
    const r = cli(['enqueue', '--json', '--policy-item', '1', '--assets', '1', '--priority', '5']);
    expect(r).toMatchObject({ status: 0 });
    const { jobIds } = JSON.parse(r.stdout) as { jobIds: string[] };
    expect((await queue.getJob(jobIds[0]!))?.opts.priority).toBe(5);
  });

  test.each([
    [['--policy-item', '2798', '--assets', '1,x'], 'assetIds[1]', '"x"'],
    [['--policy-item', '2798', '--assets', '1', '--asset-type', 'BAD'], 'assetType', '"BAD"'],
    [['--policy-item', '-3', '--assets', '1'], 'policyItemId', '"-3"'],
    [['--policy-item', '1.5', '--assets', '1'], 'policyItemId', '"1.5"'],
    [['--policy-item', '99999999999999999999', '--assets', '1'], 'policyItemId', '2^53-1'],
  ])('refuses %j: exit 1, names the field, enqueues nothing', async (args, field, shown) => {
    const r = cli(['enqueue', ...args]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('nothing was enqueued');
    const line = r.stderr.split('\n').find((l) => l.includes(field));
    expect(line).toBeDefined();
    expect(line).toContain(shown);
    expect(await jobCount()).toBe(0);
  });

  test('lists every bad flag value at once', async () => {
    const r = cli(['enqueue', '--policy-item', '-3', '--assets', '1,x', '--asset-type', 'BAD']);
    expect(r.status).toBe(1);
    for (const field of ['policyItemId', 'assetIds[1]', 'assetType']) expect(r.stderr).toContain(`- ${field}`);
    expect(await jobCount()).toBe(0);
  });

  test('--json refusals are JSON on stdout', async () => {
    const r = cli(['enqueue', '--json', '--policy-item', '0', '--assets', '1']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      error: expect.stringContaining('nothing was enqueued'),
      problems: [expect.stringContaining('policyItemId')],
    });
    expect(await jobCount()).toBe(0);
  });

  test('usage errors exit 2: missing flags, a bad --priority, an unknown option', async () => {
    const [noAssets, badPriority, unknownOption, unknownVerb] = await Promise.all([
      cliAsync(['enqueue', '--policy-item', '1']),
      cliAsync(['enqueue', '--policy-item', '1', '--assets', '1', '--priority', '0']),
      cliAsync(['enqueue', '--policy-item', '1', '--assets', '1', '--bogus']),
      cliAsync(['bogus-verb']),
    ]);
    expect(noAssets.status).toBe(2); // a usage error, as the README says
    expect(noAssets.stderr).toContain('--assets');
    expect(badPriority.status).toBe(2);
    expect(badPriority.stderr).toContain('--priority');
    expect(unknownOption.status).toBe(2);
    expect(unknownOption.stderr).toContain('--bogus');
    expect(unknownVerb.status).toBe(2);
    expect(await jobCount()).toBe(0);
  });

  test('--file with three good lines (and blank ones) enqueues three jobs', async () => {
    const f = file('good.jsonl', [
      '{"policyItemId": 1, "assetIds": [11]}',
      '',
      '{"policyItemId": 2, "assetIds": [22, 23], "assetType": "ASSET_HOST"}',
      '   ',
      '{"policyItemId": 3, "assetIds": [33]}',
    ]);
    const r = cli(['enqueue', '--json', '--file', f]);
    expect(r).toMatchObject({ status: 0 }); // on failure, shows stderr too
    const out = JSON.parse(r.stdout) as { enqueued: number; jobIds: string[] };
    expect(out.enqueued).toBe(3);
    const jobs = await Promise.all(out.jobIds.map((id) => queue.getJob(id)));
    expect(jobs.map((j) => j?.data)).toEqual([
      { policyItemId: 1, assetIds: [11] },
      { policyItemId: 2, assetIds: [22, 23], assetType: 'ASSET_HOST' },
      { policyItemId: 3, assetIds: [33] },
    ]);
    expect(await jobCount()).toBe(3);
  });

  test('--file with lines failing validation names each line and enqueues nothing', async () => {
    const f = file('invalid.jsonl', [
      '{"policyItemId": 1, "assetIds": [11]}',
      '{"policyItemId": -1, "assetIds": [12]}',
      '{"policyItemId": 3, "assetIds": [13]}',
      '{"policyItemId": 4, "assetIds": []}',
    ]);
    const r = cli(['enqueue', '--file', f]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/line 2: policyItemId/);
    expect(r.stderr).toMatch(/line 4: assetIds/);
    expect(r.stderr).not.toMatch(/line [13]\b/);
    expect(await jobCount()).toBe(0);
  });

  test('--file with a line that is not JSON names the line and enqueues nothing', async () => {
    const f = file('notjson.jsonl', [
      '{"policyItemId": 1, "assetIds": [11]}',
      '{"policyItemId": 2, "assetIds": [12]',
      '{"policyItemId": 3, "assetIds": [13]}',
    ]);
    const r = cli(['enqueue', '--file', f]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/line 2: not valid JSON/);
    expect(await jobCount()).toBe(0);
  });

  test('--file with a bad JSON line and a line failing validation names both lines, enqueues nothing', async () => {
    const f = file('mixed.jsonl', [
      '{"policyItemId": 1, "assetIds": [11]}',
      'not json at all',
      '{"policyItemId": 3, "assetIds": [13]}',
      '{"policyItemId": 4, "assetIds": ["x"]}',
    ]);
    const r = cli(['enqueue', '--file', f]);
    expect(r.status).toBe(1);
    expect(await jobCount()).toBe(0);
    expect(r.stderr).toContain('line 2');
    expect(r.stderr).toContain('line 4');
  });

  test('--file - reads stdin', async () => {
    const input = ['{"policyItemId": 8, "assetIds": [1]}', '{"policyItemId": 9, "assetIds": [2, 2, 3]}'].join('\n');
    const r = cli(['enqueue', '--json', '--file', '-'], { input });
    expect(r).toMatchObject({ status: 0 });
    const out = JSON.parse(r.stdout) as { enqueued: number; jobIds: string[] };
    expect(out.enqueued).toBe(2);
    const jobs = await Promise.all(out.jobIds.map((id) => queue.getJob(id)));
    expect(jobs.map((j) => j?.data)).toEqual([
      { policyItemId: 8, assetIds: [1] },
      { policyItemId: 9, assetIds: [2, 3] },
    ]);
  });

  test('--file - with nothing on stdin is refused', async () => {
    const r = cli(['enqueue', '--file', '-'], { input: '\n\n' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no rescans');
    expect(await jobCount()).toBe(0);
  });

  test('--file and flags together are refused', async () => {
    const f = file('one.jsonl', ['{"policyItemId": 1, "assetIds": [11]}']);
    const r = cli(['enqueue', '--file', f, '--policy-item', '1']);
    expect(r.status).toBe(2); // usage
    expect(await jobCount()).toBe(0);
  });
});

describe('tcss-rescan status', () => {
  const KEYS = ['active', 'completed', 'delayed', 'failed', 'paused', 'prioritized', 'waiting'];

  test('--json prints exactly the state counts, reflecting the queue', async () => {
    const empty = cli(['status', '--json']);
    expect(empty).toMatchObject({ status: 0 });
    expect(JSON.parse(empty.stdout)).toEqual({
      waiting: 0,
      active: 0,
      delayed: 0,
      prioritized: 0,
      completed: 0,
      failed: 0,
      paused: 0,
    });

    const producer = new RescanProducer({ redisUrl: testRedisUrl(), queueName });
    try {
      await producer.enqueueMany([
        { policyItemId: 1, assetIds: [1] },
        { policyItemId: 1, assetIds: [2] },
      ]);
      await producer.enqueue({ policyItemId: 1, assetIds: [3] }, { priority: 3 });
    } finally {
      await producer.close();
    }
    const r = cli(['status', '--json']);
    expect(r).toMatchObject({ status: 0 });
    const counts = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(counts).sort()).toEqual(KEYS);
    for (const k of KEYS) expect(typeof counts[k]).toBe('number');
    expect(counts).toEqual({ waiting: 2, active: 0, delayed: 0, prioritized: 1, completed: 0, failed: 0, paused: 0 });

    await queue.pause();
    const paused = JSON.parse(cli(['status', '--json']).stdout) as Record<string, number>;
    expect(paused.paused).toBe(3);
  });

  test('without --json prints a table naming the queue', () => {
    const r = cli(['status']);
    expect(r).toMatchObject({ status: 0 });
    expect(r.stdout).toContain(`queue ${queueName}`);
    for (const k of KEYS) expect(r.stdout).toMatch(new RegExp(`^\\s+${k}\\s+0$`, 'm'));
  });
});

describe('tcss-rescan tasks', () => {
  function rec(taskId: number, policyItemId: number): RescanResult {
    return {
      taskId,
      requestId: `req-${taskId}`,
      policyItemId,
      assetIds: [taskId + 1000],
      assetType: 'ASSET_IMAGE',
      jobIds: [String(taskId)],
      calledAt: new Date(1_700_000_000_000 + taskId * 1000).toISOString(),
    };
  }

  test('--json prints one record per line, newest first; --policy-item filters', async () => {
    const store = new RecordStore(redis, { queueName, maxLen: 1000, ttlSeconds: 60 });
    for (const [taskId, policy] of [
      [101, 2798],
      [102, 42],
      [103, 2798],
    ] as const) {
      await store.save(rec(taskId, policy), [{ id: String(taskId), timestamp: taskId }]);
    }

    const [r, filtered, limited] = await Promise.all([
      cliAsync(['tasks', '--json']),
      cliAsync(['tasks', '--json', '--policy-item', '2798']),
      cliAsync(['tasks', '--json', '--limit', '1']),
    ]);
    expect(r).toMatchObject({ status: 0 });
    const lines = jsonLines(r.stdout) as Record<string, unknown>[];
    expect(lines.map((l) => l.taskId)).toEqual([103, 102, 101]);
    for (const l of lines) {
      for (const k of ['taskId', 'requestId', 'policyItemId', 'assetIds', 'assetType', 'jobIds'])
        expect(l).toHaveProperty(k);
    }
    expect(lines[0]).toMatchObject({ ...rec(103, 2798) });

    expect(filtered).toMatchObject({ status: 0 });
    expect((jsonLines(filtered.stdout) as Record<string, unknown>[]).map((l) => [l.taskId, l.policyItemId])).toEqual([
      [103, 2798],
      [101, 2798],
    ]);

    expect(jsonLines(limited.stdout)).toHaveLength(1);
  });

  test('with nothing recorded: --json prints nothing, the table says so', async () => {
    const [json, table] = await Promise.all([cliAsync(['tasks', '--json']), cliAsync(['tasks'])]);
    expect(json).toMatchObject({ status: 0 });
    expect(json.stdout).toBe('');
    expect(table).toMatchObject({ status: 0 });
    expect(table.stdout).toContain('no TaskIds recorded yet');
  });
});

describe('configuration errors', () => {
  test('a bad REDIS_URL: enqueue, status and tasks exit 2 naming REDIS_URL and the value', async () => {
    const verbs = [['enqueue', '--policy-item', '1', '--assets', '1'], ['status', '--json'], ['tasks']];
    const results = await Promise.all(verbs.map((args) => cliAsync(args, { env: { REDIS_URL: 'nope' } })));
    results.forEach((r, i) => {
      expect([verbs[i]![0], r.status]).toEqual([verbs[i]![0], 2]);
      // With --json the error is JSON on stdout, like every other error.
      if (verbs[i]!.includes('--json'))
        expect(JSON.parse(r.stdout)).toMatchObject({
          code: 'CONFIG_INVALID',
          problems: [expect.stringMatching(/REDIS_URL: .*"nope"/)],
        });
      else expect(r.stderr).toMatch(/REDIS_URL: .*"nope"/);
    });
    expect(await jobCount()).toBe(0);
  });

  test('a bad TCSS_MAX_ASSETS_PER_CALL exits 2 naming it and the value', () => {
    const r = cli(['enqueue', '--policy-item', '1', '--assets', '1'], { env: { TCSS_MAX_ASSETS_PER_CALL: 'lots' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/TCSS_MAX_ASSETS_PER_CALL: .*"lots"/);
  });
});
