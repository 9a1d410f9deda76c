/**
 * The benchmark's settings: one type, the full and --quick values, printed into BENCHMARKS.md.
 * Sized so that the full run takes a few minutes on a 2-core machine and --quick fits a CI job.
 */

export interface BenchOptions {
  mode: 'full' | 'quick';
  /** The API's limit, req/s (the simulator's and the workers'). */
  rateLimit: number;
  /** The simulator's extra latency per answer, ms (a real API answers in tens of ms, not at once). */
  simLatencyMs: number;
  /** Pacing: worker process counts, each run with every implementation. */
  pacingProcessCounts: number[];
  /** Pacing: how long each run goes on with a backlog, seconds. */
  pacingSeconds: number;
  /**
   * Pacing: also run ours with a tighter pacing margin and window guard (TCSS_PACING_MARGIN_MS,
   * TCSS_WINDOW_GUARD_MS), at these process counts, to show what the last percent costs. Empty: skip.
   */
  tunedProcessCounts: number[];
  tunedMarginMs: number;
  tunedGuardMs: number;
  /** Network: process counts for the long and jitter runs. */
  networkProcessCounts: number[];
  /** Network: the long run without jitter, seconds; its last `longTailSeconds` are judged. */
  longSeconds: number;
  longTailSeconds: number;
  /** Network: arrival jitter (simulator arrivalJitterMs) and how long ours runs with it, seconds. */
  jitterMs: number;
  jitterSeconds: number;
  /** Network: how long each alternative runs with jitter, seconds (they do not adapt: a short run says it). */
  jitterAltSeconds: number;
  /** Fresh start: how many times 4 fresh processes start together, and how long each run lasts. */
  freshRepeats: number;
  freshProcesses: number;
  freshSeconds: number;
  /** Kill -9 of one of two workers: repeats, jobs in the backlog, seconds before the kill. */
  killRepeats: number;
  killJobs: number;
  killAfterSeconds: number;
  /** Sharing: the other consumer's rate, req/s (simulator background consumer). */
  backgroundRps: number;
  /** Sharing: worker processes of ours. */
  sharingProcesses: number;
  sharingSeconds: number;
  /** Coalescing: single-asset jobs, spread round-robin over this many check items. */
  coalesceJobs: number;
  coalescePolicyItems: number;
  coalesceConcurrency: number;
  coalesceMaxAssets: number;
  /** Coalescing off (one call per job): measured on this prefix of the same workload. */
  uncoalescedJobs: number;
  /** Most time allowed for a backlog to drain, seconds (then the run reports what it got). */
  drainTimeoutSeconds: number;
  /** The rest of the path: jobs enqueued (and then waiting while the worker's memory is sampled). */
  enqueueJobs: number;
  /** Jobs per enqueueMany call: as a service adding jobs as they come. */
  enqueueChunk: number;
  /** Enqueue throughput is also measured with calls this large (the producer chunks them itself). */
  enqueueLargeCall: number;
  /** Worker memory: a small backlog to compare the big one with. */
  smallBacklogJobs: number;
  /** Worker memory: RSS is sampled this long after the worker started. */
  rssAfterSeconds: number;
}

const full: BenchOptions = {
  mode: 'full',
  rateLimit: 20,
  simLatencyMs: 50,
  pacingProcessCounts: [1, 2, 4],
  pacingSeconds: 10,
  tunedProcessCounts: [1, 4],
  tunedMarginMs: 0,
  tunedGuardMs: 5,
  backgroundRps: 5,
  sharingProcesses: 2,
  sharingSeconds: 30,
  networkProcessCounts: [2, 4],
  longSeconds: 60,
  longTailSeconds: 40,
  jitterMs: 50,
  jitterSeconds: 60,
  jitterAltSeconds: 20,
  freshRepeats: 3,
  freshProcesses: 4,
  freshSeconds: 4,
  killRepeats: 2,
  killJobs: 600,
  killAfterSeconds: 4,
  coalesceJobs: 10_000,
  coalescePolicyItems: 50,
  coalesceConcurrency: 2000,
  coalesceMaxAssets: 100,
  uncoalescedJobs: 400,
  drainTimeoutSeconds: 120,
  enqueueJobs: 100_000,
  enqueueChunk: 1000,
  enqueueLargeCall: 10_000,
  smallBacklogJobs: 1000,
  rssAfterSeconds: 5,
};

const quick: BenchOptions = {
  ...full,
  mode: 'quick',
  pacingProcessCounts: [2],
  pacingSeconds: 6,
  tunedProcessCounts: [],
  sharingSeconds: 10,
  networkProcessCounts: [2],
  longSeconds: 20,
  longTailSeconds: 10,
  jitterSeconds: 20,
  jitterAltSeconds: 8,
  freshRepeats: 1,
  killRepeats: 1,
  coalesceJobs: 2000,
  uncoalescedJobs: 100,
  drainTimeoutSeconds: 60,
  enqueueJobs: 20_000,
  rssAfterSeconds: 3,
};

export interface BenchArgs {
  opts: BenchOptions;
  /** Section numbers to run (`--only 2,5`); every section when empty. */
  only: number[];
}

export function benchOptions(argv: string[]): BenchArgs {
  const usage = 'usage: npm run bench [-- --quick] [--only 1,2,...]';
  let only: number[] = [];
  let quickMode = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quickMode = true;
    else if (a === '--only' && /^\d+(,\d+)*$/.test(argv[i + 1] ?? '')) only = argv[++i]!.split(',').map(Number);
    else throw new Error(`unknown argument ${JSON.stringify(a)}; ${usage}`);
  }
  return { opts: quickMode ? quick : full, only };
}
