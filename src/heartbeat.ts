/**
 * A liveness signal a container platform can probe without HTTP: a long-running process (worker,
 * server) rewrites a small file every HEARTBEAT_INTERVAL_MS while its own check says it is alive; the
 * probe (`node dist/healthcheck.js`, the image's HEALTHCHECK and the Kubernetes liveness probe) fails
 * when the file is missing or older than HEARTBEAT_MAX_AGE_MS. A blocked event loop or a dead worker
 * loop stops the writes, so the platform restarts the container; Redis or the API being down does
 * not (a restart would not help: readiness and the alerts say that instead).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Logger } from './logger';

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** Six missed beats: long enough for a busy, loaded machine; short next to a probe's period x failures. */
export const HEARTBEAT_MAX_AGE_MS = 30_000;

export interface Heartbeat {
  /** Stops the beats and removes the file (a stopped process is not alive). */
  stop(): void;
}

/** Writes `file` now and every interval while `isAlive()` holds. */
export function startHeartbeat(
  file: string,
  isAlive: () => boolean,
  log: Logger,
  intervalMs = HEARTBEAT_INTERVAL_MS,
): Heartbeat {
  let warned = false;
  const beat = () => {
    if (!isAlive()) return;
    try {
      // Written aside and renamed: a probe never reads a half-written file.
      writeFileSync(`${file}.tmp`, `${Date.now()}\n`);
      renameSync(`${file}.tmp`, file);
      warned = false;
    } catch (err) {
      if (!warned) log.error({ err, file }, 'cannot write the heartbeat file: liveness probes will fail');
      warned = true;
    }
  };
  beat();
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      rmSync(file, { force: true });
    },
  };
}

export type HeartbeatVerdict = { alive: true; ageMs: number } | { alive: false; reason: string };

/** What the probe decides from the file. */
export function checkHeartbeat(file: string, now = Date.now(), maxAgeMs = HEARTBEAT_MAX_AGE_MS): HeartbeatVerdict {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {
      alive: false,
      reason: `no heartbeat file ${file} (the process is not running, or HEARTBEAT_FILE differs)`,
    };
  }
  const at = Number(text.trim());
  if (!Number.isFinite(at) || at <= 0) return { alive: false, reason: `the heartbeat file ${file} holds no timestamp` };
  const ageMs = now - at;
  if (ageMs > maxAgeMs)
    return {
      alive: false,
      reason: `the last heartbeat is ${Math.round(ageMs / 1000)} s old (more than ${maxAgeMs / 1000} s)`,
    };
  return { alive: true, ageMs };
}
