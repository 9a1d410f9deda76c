/**
 * Every Redis key tcss-rescan owns besides BullMQ's (`bull:<queue>:*`) and Bottleneck's (`b_<budget>_*`).
 * All start with `tcss-rescan:` so they are easy to find, and never contain a secret (budget ids are
 * hashes, see budget/budgetId.ts).
 *
 * Redis Cluster: a script or MULTI may only touch keys of one hash slot. So every key carries a hash
 * tag (`{...}`): a budget's keys the budget id's tag (budgetId() puts its hash in braces, and
 * Bottleneck's `b_<id>_*` keys inherit it), a queue's keys the queue name (`{<queue>}`), so that a
 * record's stream entry and its per-job keys are written in one MULTI on one node.
 *
 * Names only: what a key holds, and for how long, is its owner's (named in each comment).
 */
import type { JobRef } from './job';

export const keys = {
  /** The budget controller's state (rate, guard) for a budget (budget/adaptiveRate.ts). */
  budgetRate: (budgetId: string) => `${budgetId}:rate`,
  /** Sorted set of recent send times for a budget (budget/sendWindow.ts). */
  budgetSends: (budgetId: string) => `${budgetId}:sends`,
  /** Never expires: "this Redis has kept the send log" (budget/sendWindow.ts). */
  budgetSendsMarker: (budgetId: string) => `${budgetId}:sends:marker`,
  /** When the next send is on the smooth pace (Redis ms; budget/sendWindow.ts). */
  budgetSendsPace: (budgetId: string) => `${budgetId}:sends:pace`,
  /** Bottleneck's settings hash for a budget (its own naming: `b_<id>_settings`). */
  bottleneckSettings: (budgetId: string) => `b_${budgetId}_settings`,
  /** Stream of TaskId records (see records.ts). */
  tasks: (queue: string) => `${queueTag(queue)}:tasks`,
  /**
   * Index of the TaskId stream by check item: a sorted set (all scores 0, ordered by member) of the
   * stream ids of that item's records, zero-padded so that lexical order is id order (see records.ts).
   */
  tasksByItem: (queue: string, policyItemId: number) => `${queueTag(queue)}:tasks-by-item:${policyItemId}`,
  /** Set once the records written before the index existed have been indexed (records.ts). */
  tasksIndexed: (queue: string) => `${queueTag(queue)}:tasks-indexed`,
  /** Failed logins from one client address in the current window (src/server/loginLimit.ts). */
  loginFailures: (queue: string, address: string) => `${queueTag(queue)}:login-failures:${address}`,
  /**
   * Record of the call that covered one job, looked up before calling. Keyed by the job's id AND its
   * creation time: BullMQ ids restart at 1 when a queue is obliterated, and a new job must never be
   * mistaken for an old one that was already sent.
   */
  jobTask: (queue: string, job: JobRef) => `${queueTag(queue)}:job-task:${job.id}:${job.timestamp}`,
  /** Hash of call counters for /metrics (see callMetrics.ts). */
  metrics: (queue: string) => `${queueTag(queue)}:metrics`,
  /** Hash: worker id -> why it stopped taking jobs (pause.ts). */
  pausedWorkers: (queue: string) => `${queueTag(queue)}:paused-workers`,
  /**
   * One intake request's idempotency record (idempotency.ts), for 24 h. Keyed by a hash of the
   * caller's Idempotency-Key, so the key itself (which may be anything) never becomes a key name.
   */
  idempotency: (queue: string, keyHash: string) => `${queueTag(queue)}:idempotency:${keyHash}`,
};

/** The prefix of every key of a queue: `tcss-rescan:{<queue>}` (the braces are the Cluster hash tag). */
export function queueTag(queue: string): string {
  return `tcss-rescan:{${queue}}`;
}
