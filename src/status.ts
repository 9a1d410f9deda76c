/** Queue status: job counts per state, and workers that stopped because the API refused the credentials. */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { readPausedWorkers, type PauseInfo } from './pause';

export const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'paused'] as const;
export type JobCounts = Record<(typeof STATES)[number], number>;

export interface QueueStatus {
  queue: string;
  counts: JobCounts;
  /** Whether the whole queue is paused (BullMQ `queue.pause()`). */
  queuePaused: boolean;
  /** Workers paused by a code that would fail every job, by worker id (live ones only; pause.ts). */
  pausedWorkers: Record<string, PauseInfo>;
}

/**
 * Counts per state. BullMQ 6 has no `paused` job state any more (jobs of a paused queue stay in `wait`):
 * `paused` counts the jobs held by a paused queue (waiting + prioritized while paused), 0 otherwise.
 */
export async function queueStatus(queue: Queue, redis: Redis): Promise<QueueStatus> {
  const [c, queuePaused, pausedWorkers] = await Promise.all([
    countJobs(queue),
    queue.isPaused(),
    readPausedWorkers(redis, queue.name),
  ]);
  const counts: JobCounts = { ...c, paused: queuePaused ? c.waiting + c.prioritized : 0 };
  return { queue: queue.name, counts, queuePaused, pausedWorkers };
}

/** The jobs in each BullMQ state (one round trip; no pause information). */
export async function countJobs(queue: Queue): Promise<Omit<JobCounts, 'paused'>> {
  const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
  const n = (k: string) => Number(c[k] ?? 0);
  return {
    waiting: n('waiting'),
    active: n('active'),
    delayed: n('delayed'),
    prioritized: n('prioritized'),
    completed: n('completed'),
    failed: n('failed'),
  };
}
