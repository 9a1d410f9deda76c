/**
 * Every Redis key tcss-rescan owns besides BullMQ's (`bull:<queue>:*`) and Bottleneck's (`b_<budget>_*`).
 * All start with `tcss-rescan:` so they are easy to find, and never contain a secret (budget ids are
 * hashes, see limiter.ts).
 */
export const keys = {
  /** The adaptive rate's state for a budget (adaptiveRate.ts). */
  budgetRate: (budgetId: string) => `${budgetId}:rate`,
  /** Sorted set of recent send times for a budget (sendWindow.ts). */
  budgetSends: (budgetId: string) => `${budgetId}:sends`,
  /** Bottleneck's settings hash for a budget (its own naming: `b_<id>_settings`). */
  bottleneckSettings: (budgetId: string) => `b_${budgetId}_settings`,
  /** Stream of TaskId records (see records.ts). */
  tasks: (queue: string) => `tcss-rescan:${queue}:tasks`,
  /**
   * Record of the call that covered one job, looked up before calling. Keyed by the job's id AND its
   * creation time: BullMQ ids restart at 1 when a queue is obliterated, and a new job must never be
   * mistaken for an old one that was already sent.
   */
  jobTask: (queue: string, job: JobRef) => `tcss-rescan:${queue}:job-task:${job.id}:${job.timestamp}`,
  /** Hash of call counters for /metrics (see callMetrics.ts). */
  metrics: (queue: string) => `tcss-rescan:${queue}:metrics`,
  /** Hash: worker id -> why it stopped taking jobs (credentials refused). */
  pausedWorkers: (queue: string) => `tcss-rescan:${queue}:paused-workers`,
  /**
   * One intake request's idempotency record (idempotency.ts), for 24 h. Keyed by a hash of the
   * caller's Idempotency-Key, so the key itself (which may be anything) never becomes a key name.
   */
  idempotency: (queue: string, keyHash: string) => `tcss-rescan:${queue}:idempotency:${keyHash}`,
};

/** What identifies a job for good: its id and creation time (ms). */
export interface JobRef {
  id: string;
  timestamp: number;
}

/** Why a worker stopped taking jobs. */
export interface PauseInfo {
  code: string;
  message: string;
  requestId?: string;
  /** When it stopped (ISO). */
  at: string;
  /** Refreshed while the paused worker lives; entries not refreshed for PAUSE_STALE_MS are ignored. */
  seenAt: string;
}

/** A paused worker refreshes its entry every PAUSE_REFRESH_MS; older than PAUSE_STALE_MS it is gone. */
export const PAUSE_REFRESH_MS = 30_000;
export const PAUSE_STALE_MS = 120_000;
