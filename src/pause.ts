/**
 * Workers that stopped taking jobs: the one owner of the pause record. A worker pauses when the API
 * answers a code that would fail every job (the error table's `pause`: credentials, account,
 * configuration); it then says so in Redis, in the hash keys.pausedWorkers(<queue>) (worker id -> JSON
 * PauseInfo), for `status`, /readyz and /metrics, and keeps saying it while its process lives.
 *
 * A paused worker that was killed cannot remove its entry: it stops refreshing it instead, and readers
 * ignore entries not refreshed for PAUSE_STALE_MS.
 */
import type { Redis } from 'ioredis';
import { keys } from './keys';

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

/** A paused worker refreshes its entry this often. */
export const PAUSE_REFRESH_MS = 30_000;
/** Four refreshes missed: the worker is gone (killed, or its machine is), whatever a slow Redis did. */
export const PAUSE_STALE_MS = 120_000;

/** One worker's entry in the paused-workers hash: written on pause, refreshed, removed on close. */
export class PauseRecord {
  private timer: NodeJS.Timeout | undefined;
  private info: PauseInfo | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly queueName: string,
    private readonly workerId: string,
  ) {}

  /** Writes `info` now and refreshes its `seenAt` every PAUSE_REFRESH_MS until cleared. */
  async publish(info: PauseInfo): Promise<void> {
    this.info = info;
    await this.write();
    this.timer ??= setInterval(() => void this.write(), PAUSE_REFRESH_MS);
    this.timer.unref();
  }

  /** Stops refreshing and removes the entry (the worker is closing). */
  async clear(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.redis.hdel(keys.pausedWorkers(this.queueName), this.workerId).catch(() => undefined);
  }

  private write(): Promise<unknown> {
    const info = { ...this.info!, seenAt: new Date().toISOString() };
    // Best effort: a Redis blip only delays the next refresh; the pause itself holds in the process.
    return this.redis
      .hset(keys.pausedWorkers(this.queueName), this.workerId, JSON.stringify(info))
      .catch(() => undefined);
  }
}

/** The live paused workers of a queue, by worker id (stale entries and foreign values left out). */
export async function readPausedWorkers(redis: Redis, queueName: string): Promise<Record<string, PauseInfo>> {
  const raw = await redis.hgetall(keys.pausedWorkers(queueName));
  const now = Date.now();
  const out: Record<string, PauseInfo> = {};
  for (const [id, json] of Object.entries(raw)) {
    try {
      const info = JSON.parse(json) as PauseInfo;
      if (isFresh(info, now)) out[id] = info;
    } catch {
      // A foreign value: ignore it rather than fail the status.
    }
  }
  return out;
}

/** Whether a paused worker's entry was refreshed recently enough for its worker to be alive. */
export function isFresh(info: PauseInfo, now = Date.now()): boolean {
  // `seenAt` came with the refresh; an entry without it (an early version) counts from `at`.
  return Date.parse(info.seenAt ?? info.at) >= now - PAUSE_STALE_MS;
}
