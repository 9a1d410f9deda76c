/**
 * TaskId records (src/records.ts) against the suite's real Redis: one MULTI/EXEC per save, per-job keys
 * keyed by id AND timestamp, newest-first listing with a cursor, filtering, and the capped stream.
 */
import IORedis, { type Redis } from 'ioredis';
import type { CallRecord, JobRef } from '../src/job';
import { keys } from '../src/keys';
import { RecordStore, type CoveredJob } from '../src/records';
import { startRedisServer, type RedisServerHandle } from '../src/redisServer';
import { CutProxy } from './support/cutProxy';
import { redisClient, testRedisUrl, uniqueName, waitFor } from './support/redis';

let redis: Redis;
let queueName: string;
let store: RecordStore;

function record(taskId: number, policyItemId = 2798, jobIds: string[] = [String(taskId)]): CallRecord {
  return {
    taskId,
    requestId: `req-${taskId}`,
    policyItemId,
    assetIds: [taskId * 10, taskId * 10 + 1],
    assetType: 'ASSET_CONTAINER',
    jobIds,
    calledAt: new Date(1_700_000_000_000 + taskId).toISOString(),
  };
}

async function cleanup(queue: string): Promise<void> {
  const found = await redis.keys(`tcss-rescan:{${queue}}:*`);
  if (found.length > 0) await redis.del(...found);
}

beforeAll(() => {
  redis = redisClient();
});

beforeEach(() => {
  queueName = uniqueName('test-records');
  store = new RecordStore(redis, { queueName, maxLen: 1_000_000, ttlSeconds: 3600 });
});

afterEach(async () => {
  await cleanup(queueName);
});

afterAll(async () => {
  await redis.quit();
});

describe('RecordStore.save', () => {
  test("writes one stream entry (the call's record) and a key per job (that job's result), with the TTL", async () => {
    const jobs: CoveredJob[] = [
      { id: '1', timestamp: 1_700_000_000_001, assetIds: [5550] },
      { id: '2', timestamp: 1_700_000_000_002, assetIds: [5551, 5550] },
    ];
    const rec = record(555, 2798, ['1', '2']);
    const id = await store.save(rec, jobs);
    expect(id).toMatch(/^\d+-\d+$/);
    expect(store.streamKey).toBe(keys.tasks(queueName));
    expect(store.streamKey).toBe(`tcss-rescan:{${queueName}}:tasks`);

    const entries = await redis.xrange(store.streamKey, '-', '+');
    expect(entries).toHaveLength(1);
    const [entryId, fields] = entries[0]!;
    expect(entryId).toBe(id);
    const asObject: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) asObject[fields[i]!] = fields[i + 1]!;
    // The JSON, byte for byte (other services read it; schemas/rescan-result.schema.json).
    expect(asObject.record).toBe(
      `{"taskId":555,"requestId":"req-555","policyItemId":2798,"assetIds":[5550,5551],"assetType":"ASSET_CONTAINER","jobIds":["1","2"],"calledAt":"${rec.calledAt}"}`,
    );
    expect(asObject.policyItemId).toBe('2798');
    expect(asObject.taskId).toBe('555');

    const expected: Record<string, string> = {
      '1': `{"taskId":555,"requestId":"req-555","policyItemId":2798,"assetIds":[5550],"assetType":"ASSET_CONTAINER","jobIds":["1"],"calledAt":"${rec.calledAt}","callJobs":2,"callAssets":2}`,
      '2': `{"taskId":555,"requestId":"req-555","policyItemId":2798,"assetIds":[5551,5550],"assetType":"ASSET_CONTAINER","jobIds":["2"],"calledAt":"${rec.calledAt}","callJobs":2,"callAssets":2}`,
    };
    for (const job of jobs) {
      const key = keys.jobTask(queueName, job);
      expect(key).toBe(`tcss-rescan:{${queueName}}:job-task:${job.id}:${job.timestamp}`);
      expect(await redis.get(key)).toBe(expected[job.id]);
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(3500);
      expect(ttl).toBeLessThanOrEqual(3600);
    }
  });

  test('sends the stream entry, its index and the job keys in one MULTI/EXEC', async () => {
    const own = redisClient();
    const base = redisClient();
    // monitor() opens a connection of its own; `base` has to be closed as well.
    const monitor = await base.monitor();
    const seen: { args: string[]; source: string }[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => seen.push({ args, source }));
    try {
      const info = String(await own.call('CLIENT', 'INFO'));
      const addr = /\baddr=(\S+)/.exec(info)?.[1];
      expect(addr).toBeDefined();
      const s = new RecordStore(own, { queueName, maxLen: 1_000_000, ttlSeconds: 60 });
      await s.save(record(7, 1, ['a', 'b']), [
        { id: 'a', timestamp: 1 },
        { id: 'b', timestamp: 2 },
      ]);
      const mine = () => seen.filter((e) => e.source === addr).map((e) => e.args[0]!.toLowerCase());
      await waitFor(() => mine().includes('exec'), 5_000, 20, 'EXEC in MONITOR');
      const cmds = mine().filter((c) => c !== 'client' && c !== 'info');
      // The eval indexes the new entry by check item (records.ts); its own calls come from Lua, not this client.
      expect(cmds).toEqual(['multi', 'xadd', 'eval', 'set', 'set', 'exec']);
    } finally {
      monitor.disconnect();
      await Promise.all([own.quit(), base.quit()]);
    }
  });

  test('together or not at all: a connection cut before the last job key leaves nothing written', async () => {
    const jobs: JobRef[] = [
      { id: 'a', timestamp: 1 },
      { id: 'b', timestamp: 2 },
    ];
    const written = async () => ({
      stream: await redis.exists(store.streamKey),
      index: await redis.exists(keys.tasksByItem(queueName, 7)),
      jobKeys: await redis.exists(...jobs.map((j) => keys.jobTask(queueName, j))),
    });
    // Control: through the proxy, uncut, a save writes everything.
    const open = await CutProxy.start(testRedisUrl());
    const client = new IORedis(open.url, { maxRetriesPerRequest: null });
    try {
      await new RecordStore(client, { queueName, maxLen: 1_000_000, ttlSeconds: 60 }).save(
        record(7, 7, ['a', 'b']),
        jobs,
      );
      expect(await written()).toEqual({ stream: 1, index: 1, jobKeys: 2 });
    } finally {
      client.disconnect();
      await open.close();
    }
    await cleanup(queueName);

    // The connection is cut once the stream entry, the index and job a's key have reached Redis and run,
    // before job b's key (and EXEC) is sent.
    const lastKey = keys.jobTask(queueName, jobs[1]!);
    const proxy = await CutProxy.start(testRedisUrl(), (args) => args[0] === 'set' && args[1] === lastKey);
    const cutOff = new IORedis(proxy.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    cutOff.on('error', () => undefined);
    try {
      const saving = new RecordStore(cutOff, { queueName, maxLen: 1_000_000, ttlSeconds: 60 }).save(
        record(8, 7, ['a', 'b']),
        jobs,
      );
      saving.catch(() => undefined);
      const addr = await proxy.cutReached;
      // Redis has run every command forwarded (job a's SET is the last it saw from this connection).
      await waitFor(
        async () => new RegExp(`addr=${addr} .*\\bcmd=set\\b`).test(String(await redis.call('CLIENT', 'LIST'))),
        5_000,
        20,
        'the forwarded commands to run',
      );
      proxy.drop();
      await expect(saving).rejects.toThrow();
      // Nothing of the save is in Redis: no stream entry, no index, no job key.
      expect(await written()).toEqual({ stream: 0, index: 0, jobKeys: 0 });
    } finally {
      cutOff.disconnect();
      await proxy.close();
    }
  });

  test('returns the stream id, and ids grow with each save', async () => {
    const a = await store.save(record(1), [{ id: '1', timestamp: 1 }]);
    const b = await store.save(record(2), [{ id: '2', timestamp: 2 }]);
    const [am, as] = a.split('-').map(Number) as [number, number];
    const [bm, bs] = b.split('-').map(Number) as [number, number];
    expect(bm > am || (bm === am && bs > as)).toBe(true);
  });
});

describe('RecordStore.forJob', () => {
  test('finds the record by job id and timestamp, and not for the same id with another timestamp', async () => {
    const rec = record(9001, 2798, ['17']);
    await store.save(rec, [{ id: '17', timestamp: 1_700_000_000_123 }]);
    // A job alone in its call: its assets are the call's.
    await expect(store.forJob({ id: '17', timestamp: 1_700_000_000_123 })).resolves.toEqual({
      ...rec,
      callJobs: 1,
      callAssets: 2,
    });
    // A queue obliterated and refilled reuses id 17; that new job was never sent.
    await expect(store.forJob({ id: '17', timestamp: 1_700_000_000_124 })).resolves.toBeUndefined();
    await expect(store.forJob({ id: '18', timestamp: 1_700_000_000_123 })).resolves.toBeUndefined();
  });

  test('records of another queue are not seen', async () => {
    await store.save(record(1), [{ id: '1', timestamp: 5 }]);
    const otherName = uniqueName('test-records-other');
    const other = new RecordStore(redis, { queueName: otherName, maxLen: 1000, ttlSeconds: 60 });
    await expect(other.forJob({ id: '1', timestamp: 5 })).resolves.toBeUndefined();
    await expect(other.count()).resolves.toBe(0);
    await expect(other.list()).resolves.toEqual({ records: [] });
  });
});

describe('RecordStore.list and count', () => {
  async function saveMany(n: number, policyOf: (i: number) => number = () => 2798): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 1; i <= n; i++) ids.push(await store.save(record(i, policyOf(i)), [{ id: String(i), timestamp: i }]));
    return ids;
  }

  test('an empty store', async () => {
    await expect(store.count()).resolves.toBe(0);
    await expect(store.list()).resolves.toEqual({ records: [] });
  });

  test('newest first, each with its stream id', async () => {
    const ids = await saveMany(5);
    await expect(store.count()).resolves.toBe(5);
    const { records } = await store.list();
    expect(records.map((r) => r.taskId)).toEqual([5, 4, 3, 2, 1]);
    expect(records.map((r) => r.id)).toEqual([...ids].reverse());
    expect(records[0]).toEqual({ id: ids[4], ...record(5) });
  });

  test('pages with `before: next` continue without overlap or gaps', async () => {
    await saveMany(7);
    const p1 = await store.list({ limit: 3 });
    expect(p1.records.map((r) => r.taskId)).toEqual([7, 6, 5]);
    expect(p1.next).toBe(p1.records[2]!.id);
    const p2 = await store.list({ limit: 3, before: p1.next! });
    expect(p2.records.map((r) => r.taskId)).toEqual([4, 3, 2]);
    const p3 = await store.list({ limit: 3, before: p2.next! });
    expect(p3.records.map((r) => r.taskId)).toEqual([1]);
    expect(p3.next).toBeUndefined();
  });

  test('filters by policyItemId, also across pages and past scan windows', async () => {
    // 500 records, one in 50 for policy 7: the filter has to scan past several internal pages.
    await saveMany(500, (i) => (i % 50 === 0 ? 7 : 2798));
    await expect(store.count()).resolves.toBe(500);
    const all = await store.list({ policyItemId: 7 });
    expect(all.records.map((r) => r.taskId)).toEqual([500, 450, 400, 350, 300, 250, 200, 150, 100, 50]);
    expect(all.records.every((r) => r.policyItemId === 7)).toBe(true);

    const p1 = await store.list({ policyItemId: 7, limit: 4 });
    const p2 = await store.list({ policyItemId: 7, limit: 4, before: p1.next! });
    const p3 = await store.list({ policyItemId: 7, limit: 4, before: p2.next! });
    expect([...p1.records, ...p2.records, ...p3.records].map((r) => r.taskId)).toEqual(
      all.records.map((r) => r.taskId),
    );
    expect(p3.next).toBeUndefined();

    await expect(store.list({ policyItemId: 12345 })).resolves.toEqual({ records: [] });
    expect((await store.list({ limit: 10 })).records).toHaveLength(10);
  });

  test('the stream is capped near maxLen (MAXLEN ~ trims whole nodes, so the bound is loose)', async () => {
    const small = new RecordStore(redis, { queueName, maxLen: 1000, ttlSeconds: 60 });
    const total = 3000;
    for (let start = 1; start <= total; start += 500) {
      await Promise.all(Array.from({ length: 500 }, (_, k) => small.save(record(start + k), [])));
    }
    const count = await small.count();
    expect(count).toBeGreaterThanOrEqual(1000);
    expect(count).toBeLessThan(1500);
    // What is kept is the newest.
    const { records } = await small.list({ limit: 1 });
    expect(records[0]!.taskId).toBe(total);
  });
});

describe('the index by check item', () => {
  /** Stream and index reads since the last CONFIG RESETSTAT, from INFO commandstats. */
  async function reads(r: Redis): Promise<number> {
    const info = String(await r.info('commandstats'));
    let n = 0;
    for (const cmd of ['xrange', 'xrevrange', 'zrangebylex', 'zrevrangebylex', 'zrange', 'xread']) {
      const m = new RegExp(`^cmdstat_${cmd}:calls=(\\d+)`, 'm').exec(info);
      n += m ? Number(m[1]) : 0;
    }
    return n;
  }

  test('listing one item costs what it returns, not a walk through every record', async () => {
    // A Redis of its own: its command counts are this test's alone.
    const own: RedisServerHandle = await startRedisServer();
    const r = redisClient(own.url);
    try {
      const s = new RecordStore(r, { queueName, maxLen: 1_000_000, ttlSeconds: 60 });
      const rare: string[] = [];
      for (let start = 1; start <= 20_000; start += 1000) {
        await Promise.all(Array.from({ length: 1000 }, (_, k) => s.save(record(start + k, 2798), [])));
        if (start % 5000 === 1) rare.push(await s.save(record(100_000 + start, 7), []));
      }
      await r.config('RESETSTAT');
      const { records } = await s.list({ policyItemId: 7, limit: 10 });
      expect(records.map((x) => x.id)).toEqual([...rare].reverse());
      // One read of the index and one of each record (and one marker check); the old scan read the
      // stream backwards 200 entries at a time: 100 reads here.
      expect(await reads(r)).toBeLessThanOrEqual(1 + records.length);
    } finally {
      await r.quit();
      await own.stop();
    }
  });

  test('records trimmed from the stream leave the index too', async () => {
    const small = new RecordStore(redis, { queueName, maxLen: 100, ttlSeconds: 60 });
    for (let start = 1; start <= 2000; start += 200) {
      await Promise.all(
        Array.from({ length: 200 }, (_, k) => small.save(record(start + k, (start + k) % 2 === 0 ? 7 : 8), [])),
      );
    }
    const inStream = (await small.list({ limit: 1000 })).records.filter((x) => x.policyItemId === 7);
    const listed = (await small.list({ policyItemId: 7, limit: 1000 })).records;
    expect(listed.map((x) => x.id)).toEqual(inStream.map((x) => x.id));
    // The index holds no more than the stream does (trimmed at each write and when a listing meets a gap).
    expect(await redis.zcard(keys.tasksByItem(queueName, 7))).toBeLessThanOrEqual(inStream.length);
  });

  test('records written before the index existed are indexed on the first listing by item', async () => {
    // What earlier versions wrote: the stream entry only.
    const stream = keys.tasks(queueName);
    const old: string[] = [];
    for (const [taskId, item] of [
      [1, 7],
      [2, 8],
      [3, 7],
    ] as const) {
      const rec = record(taskId, item);
      old.push(
        (await redis.xadd(
          stream,
          '*',
          'record',
          JSON.stringify(rec),
          'policyItemId',
          String(item),
          'taskId',
          String(taskId),
        ))!,
      );
    }
    const newer = await store.save(record(4, 7), []);
    expect((await store.list({ policyItemId: 7 })).records.map((x) => x.id)).toEqual([newer, old[2], old[0]]);
    expect(await redis.exists(keys.tasksIndexed(queueName))).toBe(1);
    // A second store (another process) does not index again.
    await expect(new RecordStore(redis, { queueName, maxLen: 1000, ttlSeconds: 60 }).indexExisting()).resolves.toBe(0);
  });
});
