/**
 * 3. Coalescing: many single-asset jobs over a few check items, drained by our worker with coalescing
 * on and off (one call per job). Without coalescing the full workload takes many minutes at the
 * limit, so that case is measured on a prefix of the same workload and its rate extrapolated.
 */
import { cpuMs, type Child } from './children';
import { enqueueSingles, freshRun, type Harness, type SectionResult } from './harness';
import { redisUsedMemory } from './machine';
import { count, fixed, ratio, table, type Cell } from './markdown';
import { summariseCalls, type CallSummary } from './measure';
import { sleep, startWorkers } from './workers';

interface DrainResult {
  jobs: number;
  finished: number;
  failed: number;
  drained: boolean;
  seconds: number;
  summary: CallSummary;
  /** Accepted calls' assets: mean and most per call, and distinct assets covered. */
  meanAssets: number;
  maxAssets: number;
  assetsCovered: number;
  workerCpuMsPerJob: number;
  /** Redis memory left per finished job (kept completed jobs, per-job records, the TaskId stream). */
  redisBytesPerFinishedJob: number;
}

async function drain(h: Harness, env: Record<string, string>, jobs: number): Promise<DrainResult> {
  const o = h.opts;
  const producer = await freshRun(h);
  let children: Child[] = [];
  try {
    children = await startWorkers(h.spawn, { kind: 'ours', env }, 1, producer.queue);
    const memStart = await redisUsedMemory(h.redis);
    const cpuStart = cpuMs(children[0]!.pid);
    const started = performance.now();
    await enqueueSingles(h, producer, jobs, o.coalescePolicyItems);
    let finished = 0;
    let failed = 0;
    const deadline = started + o.drainTimeoutSeconds * 1000;
    for (;;) {
      const counts = await producer.queue.getJobCounts('completed', 'failed');
      failed = counts.failed ?? 0;
      finished = (counts.completed ?? 0) + failed;
      if (finished >= jobs || performance.now() > deadline) break;
      await sleep(50);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuMs(children[0]!.pid) - cpuStart;
    // Before the worker goes: its connections' buffers were in the figure at the start too.
    const memEnd = await redisUsedMemory(h.redis);
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    await sleep(o.simLatencyMs + 200);
    const calls = await h.sim.calls();
    const ok = calls.filter((c) => c.code === 'OK');
    const sizes = ok.map((c) => c.assetIds?.length ?? 0);
    return {
      jobs,
      finished,
      failed,
      drained: finished >= jobs,
      seconds,
      summary: summariseCalls(calls),
      meanAssets: sizes.length > 0 ? sizes.reduce((a, b) => a + b, 0) / sizes.length : 0,
      maxAssets: Math.max(0, ...sizes),
      assetsCovered: new Set(ok.flatMap((c) => c.assetIds ?? [])).size,
      workerCpuMsPerJob: cpu / Math.max(1, finished),
      redisBytesPerFinishedJob: (memEnd - memStart) / Math.max(1, finished),
    };
  } finally {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    await producer.close();
  }
}

export async function runCoalescing(h: Harness, progress: (line: string) => void): Promise<SectionResult> {
  const o = h.opts;
  progress(`coalescing on: ${count(o.coalesceJobs)} single-asset jobs over ${o.coalescePolicyItems} check items`);
  const on = await drain(
    h,
    {
      TCSS_COALESCE: 'true',
      WORKER_CONCURRENCY: String(o.coalesceConcurrency),
      TCSS_MAX_ASSETS_PER_CALL: String(o.coalesceMaxAssets),
    },
    o.coalesceJobs,
  );
  progress(`coalescing off: the first ${count(o.uncoalescedJobs)} jobs of the same workload`);
  const off = await drain(h, { TCSS_COALESCE: 'false' }, o.uncoalescedJobs);

  const offRate = off.summary.callsPerSecond;
  const callsPerJobOff = off.summary.calls / Math.max(1, off.finished);
  const offCallsFull = o.coalesceJobs * callsPerJobOff;
  const offSecondsFull = offRate > 0 ? offCallsFull / offRate : NaN;
  const fewer = offCallsFull / Math.max(1, on.summary.calls);

  const row = (label: string, basis: string, r: DrainResult): Cell[] => [
    label,
    basis,
    r.drained ? count(r.jobs) : `${count(r.finished)} of ${count(r.jobs)} (timed out)`,
    count(r.summary.calls),
    r.summary.throttled,
    fixed(r.finished / Math.max(1, r.summary.accepted), 1),
    `${fixed(r.meanAssets, 1)} / ${r.maxAssets}`,
    `${count(r.assetsCovered)} of ${count(r.jobs)}`,
    fixed(r.summary.callsPerSecond),
    fixed(r.seconds, 1),
    fixed(r.workerCpuMsPerJob, 2),
    count(r.redisBytesPerFinishedJob),
  ];
  const rows: Cell[][] = [
    row(
      `on (WORKER_CONCURRENCY=${o.coalesceConcurrency}, TCSS_MAX_ASSETS_PER_CALL=${o.coalesceMaxAssets})`,
      `measured, ${count(o.coalesceJobs)} jobs`,
      on,
    ),
    row(
      `off (one call per job, WORKER_CONCURRENCY=${h.defaults.workerConcurrency})`,
      `measured, first ${count(o.uncoalescedJobs)} jobs`,
      off,
    ),
    [
      'off',
      `extrapolated to ${count(o.coalesceJobs)} jobs from the row above (calls per job, calls/s)`,
      count(o.coalesceJobs),
      count(offCallsFull),
      '–',
      fixed(1 / callsPerJobOff, 1),
      '1 / 1',
      '–',
      fixed(offRate),
      fixed(offSecondsFull, 0),
      '–',
      '–',
    ],
  ];
  const body = [
    `${count(o.coalesceJobs)} jobs of one asset each (distinct assets), enqueued round-robin over ${o.coalescePolicyItems} check items (so the jobs waiting together are spread over every item: ` +
      `the hard case for merging), in chunks of ${o.enqueueChunk} with the bulk producer, to one worker process that was already running. ` +
      `Time to drain runs from the first enqueue to the last job completed. "assets covered" counts distinct asset ids in accepted calls. ` +
      `Redis memory per job is used_memory after minus before, per finished job (kept completed jobs, per-job records, the TaskId stream).`,
    '',
    table(
      [
        'coalescing',
        'what',
        'jobs',
        'calls',
        'throttled',
        'jobs per call',
        'assets per call (mean / max)',
        'assets covered',
        'calls/s',
        'time to drain, s',
        'worker CPU ms/job',
        'Redis bytes/finished job',
      ],
      rows,
    ),
    '',
    `Coalescing made ${ratio(fewer, 1)} fewer calls than one call per job would for the same ${count(o.coalesceJobs)} jobs, ` +
      `and drained them in ${fixed(on.seconds, 1)} s instead of about ${fixed(offSecondsFull / 60, 1)} min. ` +
      `Each finished job left ${count(on.redisBytesPerFinishedJob)} bytes in Redis with coalescing against ${count(off.redisBytesPerFinishedJob)} without ` +
      `(its kept result, its per-job record and its share of the TaskId stream).`,
  ].join('\n');
  return {
    title: '3. Coalescing',
    body,
    targets: [
      {
        target: `coalescing: ≥ 20× fewer calls (${count(o.coalesceJobs)} single-asset jobs, ${o.coalescePolicyItems} check items)`,
        measured: `${ratio(fewer, 1)} (${count(on.summary.calls)} calls instead of ${count(offCallsFull)})`,
        met: fewer >= 20 && on.drained,
      },
    ],
  };
}
