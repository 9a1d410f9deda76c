/**
 * What every run shares: the throwaway Redis (ours, so it may be flushed between runs), the simulator
 * process, how to start workers, a clean start for each run, and the timed run with a backlog.
 */
import type { Redis } from 'ioredis';
import type { TcssConfig } from '../src/config';
import { budgetId, readBudgetGuard, readBudgetRate } from '../src/budget';
import { RescanProducer } from '../src/producer';
import type { RedisServerHandle } from '../src/redisServer';
import {
  DEMO_SUB_ACCOUNT_UIN,
  SCAN_ACTION,
  type SimulatorCall,
  type SimulatorFaults,
  type SimulatorStats,
} from '../src/simulator';
import { cpuMs, type Child } from './children';
import { summariseCalls, type CallSummary } from './measure';
import type { BenchOptions } from './options';
import type { SimulatorProcess } from './simulatorProcess';
import { sleep, startWorkers, type Implementation, type WorkerSpawnContext } from './workers';

export interface Harness {
  opts: BenchOptions;
  /** Admin connection to the throwaway Redis. */
  redis: Redis;
  redisServer: RedisServerHandle;
  sim: SimulatorProcess;
  spawn: WorkerSpawnContext;
  /** The service's defaults (loadConfig of an empty environment), for settings and labels. */
  defaults: { tcss: TcssConfig; workerConcurrency: number };
}

/** One target of the issue: what was measured, and whether it is met. */
export interface TargetResult {
  target: string;
  measured: string;
  met: boolean;
}

export interface SectionResult {
  title: string;
  /** Markdown: table(s) and notes. */
  body: string;
  targets: TargetResult[];
}

let runNumber = 0;

/** What a run sets in the simulator. Refused arrivals count toward the window unless a run says otherwise (the real API's behaviour). */
export interface RunFaults {
  backgroundRps?: number;
  countThrottled?: boolean;
  /** Each arrival delayed by a random 0..this many ms (simulator `arrivalJitterMs`). */
  arrivalJitterMs?: number;
}

/**
 * A clean start: empty Redis (the bench's own server), the simulator's log and windows cleared, its
 * faults set. Returns a producer on a new queue.
 */
export async function freshRun(h: Harness, faults: RunFaults = {}): Promise<RescanProducer> {
  await h.redis.flushall();
  const all: SimulatorFaults = {
    backgroundRps: faults.backgroundRps ?? 0,
    countThrottled: faults.countThrottled ?? true,
    arrivalJitterMs: faults.arrivalJitterMs ?? 0,
  };
  await h.sim.setFaults(all);
  await h.sim.reset();
  return new RescanProducer({ redisUrl: h.redisServer.url, queueName: `bench-${++runNumber}` });
}

/**
 * Enqueues jobs `from` .. `from + n - 1`: one asset each, check items round-robin, `perCall` jobs per
 * `enqueueMany` call (default `enqueueChunk`), one call at a time. Returns the ms it took.
 */
export async function enqueueSingles(
  h: Harness,
  producer: RescanProducer,
  n: number,
  policyItems: number,
  from = 0,
  perCall = h.opts.enqueueChunk,
): Promise<number> {
  const started = performance.now();
  for (let i = from; i < from + n; i += perCall) {
    const size = Math.min(perCall, from + n - i);
    await producer.enqueueMany(Array.from({ length: size }, (_, k) => singleAsset(i + k, policyItems)));
  }
  return performance.now() - started;
}

export function singleAsset(i: number, policyItems: number): { policyItemId: number; assetIds: number[] } {
  return { policyItemId: 10_001 + (i % policyItems), assetIds: [5_000_000 + i] };
}

export interface TimedRunResult {
  summary: CallSummary;
  stats: SimulatorStats;
  calls: SimulatorCall[];
  /** CPU of all worker processes from the moment they were ready to the end, per call. */
  workerCpuMsPerCall: number;
  /** redis-server CPU over the same time, per call. */
  redisCpuMsPerCall: number;
  /** Our shared budget's rate (req/s) in Redis at the end; undefined for the baselines. */
  budgetRateAtEnd?: number;
  /** Our send-time guard (ms) in Redis at the end; undefined for the baselines. */
  budgetGuardAtEnd?: number;
  /** Jobs BullMQ moved back as stalled during the run (no process was killed: false stalls). */
  falseStalls: number;
}

/**
 * Starts `processes` workers, gives them a backlog larger than any of them can work through, and
 * after `seconds` kills them (the queue is thrown away, so there is nothing to finish cleanly). The
 * figures come from the simulator's log of this run only.
 */
export async function timedRun(
  h: Harness,
  impl: Implementation,
  processes: number,
  seconds: number,
  faults: RunFaults = {},
): Promise<TimedRunResult> {
  const producer = await freshRun(h, faults);
  let children: Child[] = [];
  try {
    children = await startWorkers(h.spawn, impl, processes, producer.queue);
    // The backlog is in place before the run begins: enqueuing thousands of jobs while the workers take
    // their first ones competes with them for the CPU (2 cores), and the first seconds would measure the
    // producer, not the budget. The workers are ready and waiting; they get the whole backlog at once.
    await producer.queue.pause();
    // More than the fastest alternative (the limit in every process on its own) can take in `seconds`.
    await enqueueSingles(h, producer, Math.max(1000, Math.ceil(1.25 * h.opts.rateLimit * processes * seconds)), 50);
    const cpuStart = children.reduce((s, c) => s + cpuMs(c.pid), 0);
    const redisCpuStart = cpuMs(h.redisServer.pid);
    const started = performance.now();
    await producer.queue.resume();
    await sleep(seconds * 1000 - (performance.now() - started));
    const cpuEnd = children.reduce((s, c) => s + cpuMs(c.pid), 0);
    const redisCpuEnd = cpuMs(h.redisServer.pid);
    const id = budgetId(`uin:${DEMO_SUB_ACCOUNT_UIN}`, new URL(h.sim.url).host, SCAN_ACTION);
    const budgetRateAtEnd = impl.kind === 'ours' ? await readBudgetRate(h.redis, id, h.opts.rateLimit) : undefined;
    const budgetGuardAtEnd =
      impl.kind === 'ours' ? await readBudgetGuard(h.redis, id, h.defaults.tcss.windowGuardMs) : undefined;
    // No process was killed yet: any job BullMQ moved back as stalled lost its lock while its worker lived.
    const jobs = await producer.queue.getJobs(['completed', 'active', 'waiting', 'failed', 'delayed'], 0, -1);
    const falseStalls = jobs.filter((j) => j.stalledCounter > 0).length;
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    // Calls already sent still arrive: let them land before reading the log.
    await sleep(h.opts.simLatencyMs + 200);
    const [calls, stats] = await Promise.all([h.sim.calls(), h.sim.stats()]);
    const n = Math.max(1, calls.length);
    return {
      summary: summariseCalls(calls),
      stats,
      calls,
      workerCpuMsPerCall: (cpuEnd - cpuStart) / n,
      redisCpuMsPerCall: (redisCpuEnd - redisCpuStart) / n,
      ...(budgetRateAtEnd !== undefined ? { budgetRateAtEnd } : {}),
      ...(budgetGuardAtEnd !== undefined ? { budgetGuardAtEnd } : {}),
      falseStalls,
    };
  } finally {
    await Promise.all(children.map((c) => c.stop('SIGKILL')));
    await producer.close();
  }
}
