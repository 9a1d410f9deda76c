/** `npm run demo` end to end (in-process, on the suite's Redis, with a small workload). */
import { PassThrough } from 'node:stream';
import { progressBar, runDemo, sampleRescans } from '../src/demo';
import { redisClient, testRedisUrl, uniqueName } from './support/redis';

jest.setTimeout(60_000);

test('drains a sample workload through simulator, workers and server, and prints a true summary', async () => {
  const queue = uniqueName('demo');
  const saved = { ...process.env };
  Object.assign(process.env, { REDIS_URL: testRedisUrl(), QUEUE_NAME: queue, SIM_PORT: '0', SERVER_PORT: '0', LOG_LEVEL: 'silent' });
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  try {
    const summary = await runDemo({ jobs: 50, out });
    // 50 requests; the 50th (index 49) has 250 assets and becomes 3 jobs.
    expect(summary).toMatchObject({ jobs: 52, completed: 52, failed: 0 });
    expect(summary.taskIdsRecorded).toBe(summary.calls - summary.throttled);
    // Coalescing merges jobs for the same check item: fewer calls than jobs.
    expect(summary.calls - summary.throttled).toBeLessThanOrEqual(52);
    expect(summary.calls - summary.throttled).toBeGreaterThan(0);
    expect(summary.maxInAnyWindow).toBeLessThanOrEqual(20);
    expect(summary.achievedRps).toBeGreaterThan(0);
    expect(summary.achievedRps).toBeLessThanOrEqual(20);
    expect(text).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard {2}\(user admin, password \S{16}\)/);
    expect(text).toContain('[##############################] 52/52 jobs');
    expect(text).toContain(`TaskIds recorded         ${summary.taskIdsRecorded}`);
  } finally {
    process.env = saved;
    const r = redisClient();
    for (const k of [...(await r.keys(`bull:${queue}-demo:*`)), ...(await r.keys(`tcss-rescan:{${queue}-demo}:*`))]) await r.del(k);
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
