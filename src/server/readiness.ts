/**
 * Whether the service can do its work: Redis answers and no worker stopped because the API answered a
 * code that would fail every job (credentials, configuration, account). The open probe (/readyz) says only ready or not and a short reason code; the details
 * (worker ids, the API's messages and RequestIds, Redis errors) go to /v1/readiness, behind login.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PauseInfo } from '../pause';
import { errorMessage } from '../redact';
import { queueStatus } from '../status';
import { ruleFor } from '../tcss/errorTable';

/** Why the service is not ready, as a probe may show it to anyone. */
export const NOT_READY_REASONS = {
  redis_unreachable: 'Redis did not answer',
  workers_paused:
    'workers stopped taking jobs: the API answered a code that would fail every job (credentials, configuration or account); see /v1/readiness',
} as const;
export type NotReadyReason = keyof typeof NOT_READY_REASONS;

export type Readiness =
  { ready: true } | { ready: false; reason: NotReadyReason; detail: string; pausedWorkers?: Record<string, PauseInfo> };

export async function readiness(queue: Queue, redis: Redis): Promise<Readiness> {
  let pausedWorkers: Record<string, PauseInfo>;
  try {
    await redis.ping();
    ({ pausedWorkers } = await queueStatus(queue, redis));
  } catch (err) {
    return {
      ready: false,
      reason: 'redis_unreachable',
      detail: `${NOT_READY_REASONS.redis_unreachable}: ${errorMessage(err)}`,
    };
  }
  const paused = Object.entries(pausedWorkers);
  if (paused.length === 0) return { ready: true };
  return {
    ready: false,
    reason: 'workers_paused',
    detail: `${paused.length} worker(s) stopped taking jobs: the API answered ${paused[0]![1].code} (${ruleFor(paused[0]![1].code).meaning}), which would fail every job; fix that and restart them`,
    pausedWorkers,
  };
}
