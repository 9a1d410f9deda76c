/**
 * `npm run demo` end to end (in-process, on the suite's Redis, with a small workload). The summary it
 * prints is checked against facts it did not compute: the queue's own counts (BullMQ), the TaskId
 * stream (records.ts), the workers' call counters (callMetrics.ts) and the budget's send log, read while
 * the demo runs (every call the workers sent, refused ones included, by Redis's clock).
 */
import { PassThrough } from 'node:stream';
import { Queue } from 'bullmq';
import { budgetId } from '../src/budget';
import { progressBar, runDemo, sampleRescans } from '../src/demo';
import type { RescanResult } from '../src/job';
import { keys } from '../src/keys';
import { DEMO_SUB_ACCOUNT_UIN, maxInWindow, SCAN_ACTION } from '../src/simulator';
import { redisClient, testRedisUrl, uniqueName, waitFor } from './support/redis';

jest.setTimeout(60_000);

test('drains a sample workload through simulator, workers and server, and prints a true summary', async () => {
  const queue = uniqueName('demo');
  const demoQueue = `${queue}-demo`;
  const saved = { ...process.env };
  Object.assign(process.env, {
    REDIS_URL: testRedisUrl(),
    QUEUE_NAME: queue,
    SIM_PORT: '0',
    SERVER_PORT: '0',
    LOG_LEVEL: 'silent',
  });
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const r = redisClient();
  const bull = new Queue(demoQueue, { connection: r });
  try {
    let finished = false;
    const demo = runDemo({ jobs: 50, out }).finally(() => (finished = true));
    // The budget's send log keeps each send for a few seconds: read it while the demo runs, until after it ends.
    const host = await waitFor(
      () => /TCSS simulator: http:\/\/(\S+?)\s/.exec(text)?.[1],
      20_000,
      20,
      'the simulator URL',
    );
    const sendLog = keys.budgetSends(budgetId(`uin:${DEMO_SUB_ACCOUNT_UIN}`, host, SCAN_ACTION));
    const sends = new Map<string, number>();
    const readLog = async () => {
      const flat = await r.zrange(sendLog, '0', '-1', 'WITHSCORES');
      for (let i = 0; i + 1 < flat.length; i += 2)
        if (!flat[i]!.startsWith('assumed:')) sends.set(flat[i]!, Number(flat[i + 1]));
    };
    while (!finished) {
      await readLog();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const summary = await demo;
    await readLog();

    // 50 requests; the 50th (index 49) has 250 assets and becomes 3 jobs.
    expect(summary).toMatchObject({ jobs: 52, completed: 52, failed: 0 });

    // The queue agrees.
    const counts = await bull.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed', 'prioritized');
    expect(counts).toEqual({
      completed: summary.completed,
      failed: summary.failed,
      waiting: 0,
      active: 0,
      delayed: 0,
      prioritized: 0,
    });

    // The TaskId stream agrees: one record per TaskId, and every completed job's TaskId is in it.
    const stream = (await r.xrange(keys.tasks(demoQueue), '-', '+')).map(
      ([, f]) => JSON.parse(f[f.indexOf('record') + 1]!) as RescanResult,
    );
    expect(stream).toHaveLength(summary.taskIdsRecorded);
    const recorded = new Set(stream.map((rec) => rec.taskId));
    expect(recorded.size).toBe(stream.length);
    const jobs = await bull.getJobs(['completed']);
    expect(jobs).toHaveLength(52);
    for (const job of jobs) {
      const result = job.returnvalue as RescanResult;
      expect(recorded.has(result.taskId)).toBe(true);
      expect(stream.find((rec) => rec.taskId === result.taskId)!.jobIds).toContain(job.id);
    }
    // Coalescing merges jobs for the same check item: fewer calls than jobs.
    expect(stream.length).toBeLessThan(52);

    // The workers' own counters agree with the simulator's: every call, and the refused ones.
    const metrics = await r.hgetall(keys.metrics(demoQueue));
    const byCode = Object.entries(metrics).filter(([k]) => k.startsWith('calls:'));
    expect(byCode.reduce((n, [, v]) => n + Number(v), 0)).toBe(summary.calls);
    expect(Number(metrics['calls:OK'])).toBe(summary.taskIdsRecorded);
    expect(Number(metrics.throttled ?? 0)).toBe(summary.throttled);
    expect(summary.calls - summary.throttled).toBe(summary.taskIdsRecorded);

    // Every call left through the budget's send log, refused ones included: as many sends as the
    // simulator saw arrivals, never more than 20 in any 1000 ms by Redis's clock.
    expect(sends.size).toBe(summary.calls);
    expect(maxInWindow([...sends.values()], 1000)).toBeLessThanOrEqual(20);
    expect(summary.achievedRps).toBeGreaterThan(0);
    expect(summary.achievedRps).toBeLessThanOrEqual(20);

    // What was printed is the summary.
    expect(text).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard {2}\(user admin, password \S{16}\)/);
    expect(text).toContain('[##############################] 52/52 jobs');
    expect(text).toContain(`API calls                ${summary.calls} (throttled: ${summary.throttled})`);
    expect(text).toContain(`TaskIds recorded         ${summary.taskIdsRecorded}`);
  } finally {
    process.env = saved;
    await bull.close();
    for (const k of [...(await r.keys(`bull:${demoQueue}:*`)), ...(await r.keys(`tcss-rescan:{${demoQueue}}:*`))])
      await r.del(k);
    await r.quit();
  }
});

test('sample workload and progress bar', () => {
  const s = sampleRescans(100);
  expect(s).toHaveLength(100);
  expect(s.filter((r) => r.assetIds.length === 250)).toHaveLength(2);
  expect(progressBar(0, 10, 10)).toBe('[..........]');
  expect(progressBar(5, 10, 10)).toBe('[#####.....]');
  expect(progressBar(10, 10, 10)).toBe('[##########]');
});
