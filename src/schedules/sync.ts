/**
 * Syncing the schedules file into BullMQ 6 Job Schedulers on the rescan queue: the file is the whole
 * truth, so the queue's schedulers are made to match it exactly.
 *
 * A scheduler stores a job template and keeps exactly one job for its next run (id
 * `repeat:<schedulerId>:<runMillis>`, delayed until then); when that job starts, BullMQ adds the next.
 * The jobs are ordinary `rescan` jobs (the job contract), at SCHEDULED_PRIORITY.
 */
import type { JobSchedulerJson, JobSchedulerTemplateOptions, JobsOptions, Queue } from 'bullmq';
import { JOB_NAME, ValidationError, parseRescanJobData } from '../job';
import { cronProblem, isTimeZone } from './cron';
import { NAME_RE, SchedulesError, isPlainObject, type ScheduleEntry, type SchedulePart } from './entry';
import { quoteValue } from '../problems';

/**
 * The BullMQ priority of every scheduled rescan.
 *
 * How BullMQ 6 orders jobs (commands/moveToActive, includes/moveJobFromPrioritizedToActive): a job
 * without a priority (0, the default, which is what services enqueue) goes to the `wait` list; a job
 * with priority 1 … 2,097,152 goes to the `prioritized` sorted set, scored `priority · 2^32 + counter`.
 * A worker always takes from `wait` first, and only when `wait` is empty pops the lowest score from
 * `prioritized` (lower number first, FIFO within one number). So any un-prioritized rescan, even one
 * enqueued after a nightly batch of thousands, runs before every scheduled job still waiting, and a big
 * nightly batch never starves an urgent rescan. 1000 leaves room on both sides for callers that pass
 * `--priority`: 1–999 go before scheduled rescans, above 1000 after them.
 *
 * (A delayed job due to run is promoted into `prioritized` by its priority, so scheduled runs wait their
 * turn too. Beware `queue.promoteJobs()`: it moves delayed jobs to `wait` without looking at their
 * priority; `job.promote()` keeps it.)
 */
export const SCHEDULED_PRIORITY = 1000;

/** What syncSchedules did, by job scheduler id. */
export interface SyncReport {
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: string[];
}

/**
 * Checks entries handed to syncSchedules (they may not come from parseSchedulesFile): valid names,
 * patterns and zones, job data that passes the contract, parts named after their entry, no id twice.
 */
function checkEntries(entries: ScheduleEntry[]): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  entries.forEach((e, i) => {
    const named = typeof e.name === 'string' && NAME_RE.test(e.name);
    const label = named ? e.name : `entry #${i + 1}`;
    if (!named) problems.push(`${label}: name must be 1 to 100 letters, digits, _ . or -, got ${quoteValue(e.name)}`);
    if (typeof e.timezone !== 'string' || !isTimeZone(e.timezone)) {
      problems.push(
        `${label}: timezone must be an IANA time zone such as Asia/Shanghai, got ${quoteValue(e.timezone)}`,
      );
    } else {
      const p =
        typeof e.cron === 'string'
          ? cronProblem(e.cron, e.timezone)
          : `cron must be a string, got ${quoteValue(e.cron)}`;
      if (p) problems.push(`${label}: ${p}`);
    }
    if (!Array.isArray(e.parts) || e.parts.length === 0)
      problems.push(`${label}: no parts (entries come from parseSchedulesFile)`);
    for (const [k, part] of (e.parts ?? []).entries()) {
      const expected = e.parts.length === 1 ? e.name : `${e.name}#${k + 1}`;
      if (part.id !== expected)
        problems.push(`${label}: part ${k + 1} must have id ${quoteValue(expected)}, got ${quoteValue(part.id)}`);
      if (seen.has(part.id)) problems.push(`${label}: duplicate scheduler id ${quoteValue(part.id)}`);
      seen.add(part.id);
      try {
        parseRescanJobData(part.data);
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        for (const p of err.problems) problems.push(`${label}: ${part.id}: ${p}`);
      }
    }
  });
  if (problems.length > 0) throw new SchedulesError(problems);
}

/** The scheduled jobs' options: ours (attempts, backoff, removeOn*), at SCHEDULED_PRIORITY. */
function templateOptions(jobOpts: JobsOptions): JobSchedulerTemplateOptions {
  // A scheduler sets these per run itself (and its template type refuses the first three).
  const {
    jobId: _id,
    delay: _delay,
    deduplication: _dedup,
    repeatJobKey: _key,
    prevMillis: _prev,
    timestamp: _ts,
    ...rest
  } = jobOpts;
  return { ...rest, priority: SCHEDULED_PRIORITY };
}

/** JSON with sorted keys, undefined dropped: compares what was stored with what would be. */
function canonical(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (isPlainObject(x)) {
      return Object.fromEntries(
        Object.keys(x)
          .filter((k) => x[k] !== undefined)
          .sort()
          .map((k) => [k, sort(x[k])]),
      );
    }
    return x;
  };
  return JSON.stringify(sort(v === undefined ? null : JSON.parse(JSON.stringify(v))));
}

function isIdentical(
  s: JobSchedulerJson,
  e: ScheduleEntry,
  part: SchedulePart,
  opts: JobSchedulerTemplateOptions,
): boolean {
  return (
    s.name === JOB_NAME &&
    s.pattern === e.cron &&
    s.tz === e.timezone &&
    s.every === undefined &&
    s.limit === undefined &&
    s.startDate === undefined &&
    s.endDate === undefined &&
    canonical(s.template?.data) === canonical(part.data) &&
    canonical(s.template?.opts ?? {}) === canonical(opts)
  );
}

/**
 * Makes the queue's job schedulers match `entries` exactly: adds missing ones, updates those whose
 * pattern, time zone, job data or job options differ, leaves identical ones alone (so a second sync
 * reports everything unchanged), removes every scheduler not in the list. The entries are checked
 * before anything changes (SchedulesError). Not atomic across schedulers: if Redis fails half way,
 * running it again finishes the job.
 */
export async function syncSchedules(queue: Queue, entries: ScheduleEntry[], jobOpts: JobsOptions): Promise<SyncReport> {
  checkEntries(entries);
  const opts = templateOptions(jobOpts);
  const existing = new Map<string, JobSchedulerJson>();
  for (const s of await queue.getJobSchedulers(0, -1, true)) existing.set(s.key, s);

  const report: SyncReport = { added: [], updated: [], removed: [], unchanged: [] };
  const wanted = new Set<string>();
  for (const e of entries) {
    for (const part of e.parts) {
      wanted.add(part.id);
      const current = existing.get(part.id);
      if (current && isIdentical(current, e, part, opts)) {
        report.unchanged.push(part.id);
        continue;
      }
      // Upserting replaces the scheduler's pending run (delayed, or due and waiting) with one built
      // from the new template, due at the pattern's next time.
      await queue.upsertJobScheduler(
        part.id,
        { pattern: e.cron, tz: e.timezone },
        { name: JOB_NAME, data: part.data, opts },
      );
      (current ? report.updated : report.added).push(part.id);
    }
  }
  for (const [id, s] of existing) {
    if (wanted.has(id)) continue;
    await queue.removeJobScheduler(id);
    if (typeof s.next === 'number' && Number.isFinite(s.next)) await cancelPendingRun(queue, `repeat:${id}:${s.next}`);
    report.removed.push(id);
  }
  return report;
}

/**
 * removeJobScheduler deletes the scheduler's next run only while it is still delayed. A run already
 * due (promoted to waiting/prioritized, e.g. behind urgent work) would still happen once; a removed
 * schedule should not fire again, so it goes too. Never touches a run that started or finished.
 */
async function cancelPendingRun(queue: Queue, jobId: string): Promise<void> {
  const job = await queue.getJob(jobId);
  if (!job) return;
  const state = await job.getState();
  // queue.remove() refuses a job a worker has locked meanwhile (returns 0): that run goes ahead.
  if (state === 'waiting' || state === 'prioritized' || state === 'delayed') await queue.remove(jobId);
}
