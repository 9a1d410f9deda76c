/**
 * 4. The rest of the path: enqueue throughput of the bulk producer, Redis memory per waiting job, and a
 * worker's memory and CPU with a small and a large backlog waiting, to see what grows with the backlog.
 */
import { cpuMs, rssBytes, type Child } from './children';
import { enqueueSingles, freshRun, type Harness, type SectionResult } from './harness';
import { redisUsedMemory } from './machine';
import { count, fixed, mib, percent, table, type Cell } from './markdown';
import { sleep, startWorkers } from './workers';
import type { RescanProducer } from '../src/producer';

interface WorkerSample {
  waitingAtStart: number;
  rssEnd: number;
  rssMax: number;
  calls: number;
  jobsDone: number;
  workerCpuMsPerCall: number;
  workerCpuMsPerJob: number;
  redisCpuMsPerCall: number;
}

/** Starts one worker (service defaults) on a queue with jobs waiting and samples it for a few seconds. */
async function sampleWorker(h: Harness, producer: RescanProducer): Promise<WorkerSample> {
  const waitingAtStart = await producer.queue.getWaitingCount();
  let children: Child[] = [];
  try {
    children = await startWorkers(h.spawn, { kind: 'ours' }, 1, producer.queue);
    const pid = children[0]!.pid;
    const cpuStart = cpuMs(pid);
    const redisCpuStart = cpuMs(h.redisServer.pid);
    const doneStart = await producer.queue.getCompletedCount();
    const callsStart = (await h.sim.stats()).total;
    let rssMax = 0;
    const until = performance.now() + h.opts.rssAfterSeconds * 1000;
    while (performance.now() < until) {
      rssMax = Math.max(rssMax, rssBytes(pid));
      await sleep(200);
    }
    const rssEnd = rssBytes(pid);
    const cpu = cpuMs(pid) - cpuStart;
    const redisCpu = cpuMs(h.redisServer.pid) - redisCpuStart;
    const calls = (await h.sim.stats()).total - callsStart;
    const jobsDone = (await producer.queue.getCompletedCount()) - doneStart;
    return {
      waitingAtStart,
      rssEnd,
      rssMax: Math.max(rssMax, rssEnd),
      calls,
      jobsDone,
      workerCpuMsPerCall: cpu / Math.max(1, calls),
      workerCpuMsPerJob: cpu / Math.max(1, jobsDone),
      redisCpuMsPerCall: redisCpu / Math.max(1, calls),
    };
  } finally {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
  }
}

export async function runPath(h: Harness, progress: (line: string) => void): Promise<SectionResult> {
  const o = h.opts;
  const n = o.enqueueJobs;
  const tenth = Math.max(o.enqueueChunk, Math.round(n / 10 / o.enqueueChunk) * o.enqueueChunk);

  // A producer in a service is warm: the first chunks (module and JIT warm-up) are not measured.
  const warm = await freshRun(h);
  await enqueueSingles(h, warm, 5 * o.enqueueChunk, 50).finally(() => warm.close());

  // Enqueue throughput and Redis memory per waiting job, no worker running.
  progress(`enqueue: ${count(n)} jobs in chunks of ${o.enqueueChunk}`);
  let big = await freshRun(h);
  let small: RescanProducer | undefined;
  try {
    const memBase = await redisUsedMemory(h.redis);
    const firstMs = await enqueueSingles(h, big, tenth, 50, 0);
    const memTenth = await redisUsedMemory(h.redis);
    const middleMs = await enqueueSingles(h, big, n - 2 * tenth, 50, tenth);
    const lastMs = await enqueueSingles(h, big, tenth, 50, n - tenth);
    const memAll = await redisUsedMemory(h.redis);
    const totalMs = firstMs + middleMs + lastMs;
    const jobsPerSecond = (n * 1000) / totalMs;
    const firstRate = (tenth * 1000) / firstMs;
    const lastRate = (tenth * 1000) / lastMs;
    const bytesAtTenth = (memTenth - memBase) / tenth;
    const bytesAtAll = (memAll - memBase) / n;

    progress(`worker with ${count(n)} jobs waiting: ${o.rssAfterSeconds} s`);
    const bigWorker = await sampleWorker(h, big);

    progress(`enqueue: ${count(n)} jobs, ${count(o.enqueueLargeCall)} per call`);
    await big.close();
    big = await freshRun(h);
    const largeMs = await enqueueSingles(h, big, n, 50, 0, o.enqueueLargeCall);
    const largeRate = (n * 1000) / largeMs;

    progress(`worker with ${count(o.smallBacklogJobs)} jobs waiting: ${o.rssAfterSeconds} s`);
    small = await freshRun(h);
    await enqueueSingles(h, small, o.smallBacklogJobs, 50);
    const smallWorker = await sampleWorker(h, small);

    const enqueueRows: Cell[][] = [
      [
        `enqueue throughput, ${count(o.enqueueChunk)} jobs per enqueueMany call`,
        `${count(jobsPerSecond)} jobs/s`,
        `${count(n)} jobs in ${fixed(totalMs / 1000, 2)} s, one call at a time`,
      ],
      [
        `enqueue throughput, ${count(o.enqueueLargeCall)} jobs per enqueueMany call`,
        `${count(largeRate)} jobs/s`,
        `${count(n)} jobs in ${fixed(largeMs / 1000, 2)} s into a fresh queue (the producer splits a large call itself)`,
      ],
      ['… first 10% of the jobs (empty queue)', `${count(firstRate)} jobs/s`, `${count(tenth)} jobs`],
      [`… last 10% (${count(n - tenth)} already waiting)`, `${count(lastRate)} jobs/s`, `${count(tenth)} jobs`],
      [
        'Redis memory per waiting job',
        `${count(bytesAtAll)} bytes`,
        `used_memory +${mib(memAll - memBase)} for ${count(n)} jobs`,
      ],
      [
        '… measured at 10% of the backlog',
        `${count(bytesAtTenth)} bytes`,
        `+${mib(memTenth - memBase)} for ${count(tenth)} jobs`,
      ],
    ];
    const workerRows: Cell[][] = [smallWorker, bigWorker].map((w) => [
      count(w.waitingAtStart),
      mib(w.rssEnd),
      mib(w.rssMax),
      w.calls,
      w.jobsDone,
      fixed(w.workerCpuMsPerCall, 2),
      fixed(w.workerCpuMsPerJob, 2),
      fixed(w.redisCpuMsPerCall, 2),
    ]);

    const rssGrowth = bigWorker.rssEnd / smallWorker.rssEnd - 1;
    const cpuGrowth = bigWorker.workerCpuMsPerCall / smallWorker.workerCpuMsPerCall - 1;
    const enqueueChange = lastRate / firstRate - 1;
    const grows = [
      `- **Redis memory grows linearly with the backlog**: about ${count(bytesAtAll)} bytes per waiting job (${count(bytesAtTenth)} at 10% of it), ` +
        `so ${count(n)} waiting jobs hold ${mib(memAll - memBase)}. Finished jobs keep memory too (kept completed jobs, records; see section 3) until BullMQ's retention and the records' TTL drop them.`,
      `- **Worker memory**: ${mib(bigWorker.rssEnd)} with ${count(bigWorker.waitingAtStart)} jobs waiting against ${mib(smallWorker.rssEnd)} with ${count(smallWorker.waitingAtStart)} ` +
        `(${percent(rssGrowth, 0)}): ${Math.abs(rssGrowth) < 0.25 ? 'it does not grow with the backlog' : 'it changes with the backlog'}; a worker holds at most WORKER_CONCURRENCY jobs (${h.defaults.workerConcurrency}), whatever waits.`,
      `- **Worker CPU per call**: ${fixed(bigWorker.workerCpuMsPerCall, 2)} ms with the large backlog, ${fixed(smallWorker.workerCpuMsPerCall, 2)} ms with the small one (${percent(cpuGrowth, 0)}).`,
      `- **Enqueue throughput**: ${count(firstRate)} jobs/s into an empty queue, ${count(lastRate)} jobs/s with ${count(n - tenth)} already waiting (${percent(enqueueChange, 0)}).`,
    ];
    const body = [
      `The bulk producer (RescanProducer.enqueueMany, validation included) into the bench's own Redis, no worker running, after a warm-up of ${count(5 * o.enqueueChunk)} jobs (not counted); ` +
        `Redis memory is INFO used_memory before and after.`,
      '',
      table(['measure', 'value', 'how'], enqueueRows),
      '',
      `Then one worker process with the service's defaults (coalescing on, WORKER_CONCURRENCY=${h.defaults.workerConcurrency}) is started on that backlog and sampled for ${o.rssAfterSeconds} s ` +
        `(RSS from /proc/<pid>/status; CPU as utime + stime from /proc/<pid>/stat, from ready to the last sample), and the same on a small backlog. Calls with coalescing can cover several jobs.`,
      '',
      table(
        [
          'jobs waiting',
          'worker RSS at end',
          'worker RSS max',
          'calls',
          'jobs done',
          'worker CPU ms/call',
          'worker CPU ms/job',
          'redis-server CPU ms/call',
        ],
        workerRows,
      ),
      '',
      'What grows with the backlog:',
      '',
      ...grows,
    ].join('\n');
    return {
      title: '4. The rest of the path',
      body,
      targets: [
        {
          target: 'enqueue throughput ≥ 20,000 jobs/s (bulk producer, local Redis)',
          measured: `${count(jobsPerSecond)} jobs/s with ${count(o.enqueueChunk)} jobs per call; ${count(largeRate)} jobs/s with ${count(o.enqueueLargeCall)} per call`,
          met: Math.max(jobsPerSecond, largeRate) >= 20_000,
        },
      ],
    };
  } finally {
    await big.close();
    await small?.close();
  }
}
