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
  tunedMarginMs: 0.25,
  tunedGuardMs: 5,
  backgroundRps: 5,
  sharingProcesses: 2,
  sharingSeconds: 12,
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
  sharingSeconds: 6,
  coalesceJobs: 2000,
  uncoalescedJobs: 100,
  drainTimeoutSeconds: 60,
  enqueueJobs: 20_000,
  rssAfterSeconds: 3,
};

export function benchOptions(argv: string[]): BenchOptions {
  const unknown = argv.filter((a) => a !== '--quick');
  if (unknown.length > 0) throw new Error(`unknown argument(s) ${unknown.join(' ')}; usage: npm run bench [-- --quick]`);
  return argv.includes('--quick') ? quick : full;
}
