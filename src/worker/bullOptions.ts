/**
 * How BullMQ runs our jobs: locks, stalled-job checks and the backoff between attempts. Re-running a
 * job is always safe (records.ts: a job whose call was recorded is not sent again), so these settings
 * trade only how fast a dead worker's jobs come back against how often a live but slow one loses them.
 */
import type { MinimalJob, WorkerOptions } from 'bullmq';
import { BACKOFF_TYPE, backoffDelay } from '../budget';
import type { Config } from '../config';

/**
 * Locks last LOCK_DURATION_MS and are renewed about every LOCK_RENEW_MS, so a live worker loses a job
 * only if its event loop or Redis stalls for about 5 s (with a 4 s lock renewed every 2 s, the bench saw
 * jobs re-run at a load average of 25 on 2 cores); a killed worker's jobs are back in the queue within
 * LOCK_DURATION_MS + STALLED_INTERVAL_MS = 7.5 s (BullMQ: 30 s + 30 s by default; 15 + 15 here before).
 */
export const LOCK_DURATION_MS = 6_000;
export const LOCK_RENEW_MS = 1_000;
export const STALLED_INTERVAL_MS = 1_500;
/**
 * BullMQ fails a job found stalled more often than this ("job stalled more than allowable limit").
 * Its default, 1, would fail a job whose worker was killed twice, or that a busy worker lost twice to
 * a false stall; re-running is safe, so such a job should still complete. A job that stalls every
 * worker that takes it still ends, after 5.
 */
export const MAX_STALLED_COUNT = 5;
/** BullMQ's own default for a job added without `attempts`: one try, no retry. */
export const BULLMQ_DEFAULT_ATTEMPTS = 1;

/** The attempts a job was given (by our producer: TCSS_MAX_ATTEMPTS; by another client: maybe none). */
export function attemptsOf(job: MinimalJob): number {
  return job.opts.attempts ?? BULLMQ_DEFAULT_ATTEMPTS;
}

/** The worker's options, but for the connection (rescanWorker.ts adds it). */
export function bullWorkerOptions(cfg: Config, concurrency: number): Omit<WorkerOptions, 'connection'> {
  return {
    concurrency,
    autorun: false,
    // A crashed worker's jobs come back after its locks expire and a stalled check sees them (at most
    // lockDuration + stalledInterval, docs/budget.md); re-running them is safe (records).
    lockDuration: LOCK_DURATION_MS,
    lockRenewTime: LOCK_RENEW_MS,
    stalledInterval: STALLED_INTERVAL_MS,
    maxStalledCount: MAX_STALLED_COUNT,
    settings: {
      backoffStrategy: (attemptsMade: number, type?: string, _err?: Error, job?: MinimalJob) => {
        if (type !== BACKOFF_TYPE) return -1;
        const base = Number((job?.opts.backoff as { delay?: number } | undefined)?.delay) || cfg.tcss.backoffMs;
        return backoffDelay(attemptsMade, base);
      },
    },
  };
}
