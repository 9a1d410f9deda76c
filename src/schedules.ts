/**
 * Scheduled rescans (a nightly baseline and the like): a YAML file of cron entries, kept in BullMQ 6
 * Job Schedulers on the rescan queue.
 *
 *   schedules:
 *     - name: nightly-baseline
 *       cron: "0 2 * * *"
 *       timezone: Asia/Shanghai
 *       policyItemId: 2798
 *       assetIds: [2202462, 111]
 *
 * The file is the whole truth: `syncSchedules` makes the queue's schedulers match it exactly (adds,
 * updates, removes; leaves identical ones alone, so running it twice changes nothing). Everything is
 * validated before anything is changed. An entry with more than TCSS_MAX_ASSETS_PER_CALL assets becomes
 * several schedulers, `<name>#1`, `<name>#2`, …, whose jobs share the batch id `schedule:<name>`.
 *
 * A scheduler stores a job template and keeps exactly one job for its next run (id
 * `repeat:<schedulerId>:<runMillis>`, delayed until then); when that job starts, BullMQ adds the next.
 * The jobs are ordinary `rescan` jobs (the job contract), at SCHEDULED_PRIORITY.
 */
import { getNextMillis, type JobSchedulerJson, type JobSchedulerTemplateOptions, type JobsOptions, type Queue } from 'bullmq';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import {
  ASSET_TYPES,
  JOB_NAME,
  ValidationError,
  parseRescanJobData,
  parseRescanRequest,
  splitRescan,
  type AssetType,
  type RescanJobData,
} from './job';

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

/** Time zone of an entry without `timezone`. Always stored explicitly: without `tz` BullMQ reads the
 *  pattern in the local zone of whichever process computes the next run. */
export const DEFAULT_TIMEZONE = 'UTC';

/** The prefix of the batch id shared by the parts of a split entry: `schedule:<name>`. */
export const SCHEDULE_BATCH_PREFIX = 'schedule:';

const NAME_RE = /^[A-Za-z0-9_.-]{1,100}$/;
const ENTRY_FIELDS = ['name', 'cron', 'timezone', 'policyItemId', 'assetIds', 'assetType'] as const;
const RESCAN_FIELDS = ['policyItemId', 'assetIds', 'assetType'] as const;

/** One entry of the schedules file, validated, with the job schedulers it becomes. */
export interface ScheduleEntry {
  /** Unique name (1 to 100 letters, digits, `_`, `.`, `-`). */
  name: string;
  /** Cron pattern: 5 fields (minute first) or 6 (second first). */
  cron: string;
  /** IANA time zone the pattern is read in. Default UTC. */
  timezone: string;
  policyItemId: number;
  /** The entry's asset ids, duplicates removed (first occurrence kept). */
  assetIds: number[];
  assetType?: AssetType;
  /** The job schedulers for this entry: one per TCSS_MAX_ASSETS_PER_CALL assets. */
  parts: SchedulePart[];
}

export interface SchedulePart {
  /** Job scheduler id: `<name>` when the entry is one part, else `<name>#1`, `<name>#2`, … */
  id: string;
  /** The data of every job this scheduler creates (passes parseRescanJobData). */
  data: RescanJobData;
}

/** What syncSchedules did, by job scheduler id. */
export interface SyncReport {
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: string[];
}

/** One job scheduler on the queue, as `schedules list` shows it (null: not set or not ours). */
export interface ScheduleInfo {
  /** Job scheduler id (`<name>` or `<name>#k`). */
  id: string;
  /** The entry name: the id without `#k`. */
  name: string;
  cron: string | null;
  timezone: string | null;
  policyItemId: number | null;
  /** How many assets each run of this scheduler rescans. */
  assets: number;
  assetType: AssetType | null;
  /** When the next run is due, ISO 8601 (UTC). */
  next: string | null;
}

export interface ParseSchedulesOptions {
  /** Most assets per job (TCSS_MAX_ASSETS_PER_CALL); larger entries become several schedulers. */
  maxAssetsPerCall: number;
  /**
   * Accept patterns that fire more than once a minute (a seconds field with several values, such as
   * "*\/10 * * * * *"). Default false: such a schedule is almost always a mistake, and at 20 req/s
   * a few of them would use up the whole budget. The CLI's `--allow-sub-minute`.
   */
  allowSubMinute?: boolean;
}

/** A schedules file (or entry list) that cannot be applied: lists every problem, each naming its entry. */
export class SchedulesError extends Error {
  override readonly name = 'SchedulesError';
  readonly code = 'INVALID_SCHEDULES';
  constructor(readonly problems: string[]) {
    super(`Invalid schedules:\n  - ${problems.join('\n  - ')}`);
  }
}

// --- parsing ------------------------------------------------------------------------------------------

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return typeof v;
  }
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a cron pattern the way BullMQ will read it (`getNextMillis`, BullMQ's own cron-parser call);
 * undefined when it is fine. cron-parser quietly fills in missing fields ("* * *", even "") and
 * accepts aliases such as "@daily", so the field count is checked first.
 */
function cronProblem(cron: string, timezone: string): string | undefined {
  const fields = cron.trim().split(/\s+/).filter((f) => f !== '').length;
  if (fields !== 5 && fields !== 6) {
    return `cron must be a cron pattern of 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got ${show(cron)}`;
  }
  let next: number | undefined;
  try {
    next = getNextMillis(Date.now(), { pattern: cron, tz: timezone });
  } catch (err) {
    return `cron ${show(cron)} is not a valid cron pattern: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (next === undefined || !Number.isFinite(next)) return `cron ${show(cron)} never fires`;
  return undefined;
}

/**
 * Whether a (valid) pattern can fire twice within one minute. Exact: minute-level fields fire at most
 * once a minute, so it can only happen within a matching minute, where every value of the seconds
 * field fires; so look at the first two firings from the start of the first matching minute.
 */
export function firesMoreThanOncePerMinute(cron: string, timezone: string): boolean {
  const first = getNextMillis(Date.now(), { pattern: cron, tz: timezone });
  if (first === undefined) return false;
  const a = getNextMillis(first - (first % 60_000) - 1, { pattern: cron, tz: timezone });
  const b = a === undefined ? undefined : getNextMillis(a, { pattern: cron, tz: timezone });
  return a !== undefined && b !== undefined && b - a < 60_000;
}

const entrySchema = z.strictObject(
  {
    name: z.string({ error: (iss) => (iss.input === undefined ? 'name is required' : `name must be a string, got ${show(iss.input)}`) }).regex(NAME_RE, {
      error: (iss) => `name must be 1 to 100 letters, digits, _ . or -, got ${show(iss.input)}`,
    }),
    cron: z
      .string({ error: (iss) => (iss.input === undefined ? 'cron is required' : `cron must be a quoted string such as "0 2 * * *", got ${show(iss.input)}`) })
      .superRefine((cron, ctx) => {
        const p = cronProblem(cron, DEFAULT_TIMEZONE);
        if (p) ctx.addIssue({ code: 'custom', message: p });
      }),
    timezone: z
      .string({ error: (iss) => `timezone must be an IANA time zone such as Asia/Shanghai, got ${show(iss.input)}` })
      .refine(isTimeZone, { error: (iss) => `timezone must be an IANA time zone such as Asia/Shanghai, got ${show(iss.input)}` })
      .optional(),
    // Checked by the job contract (parseRescanRequest), so the messages are the ones enqueue gives.
    policyItemId: z.unknown().optional(),
    assetIds: z.unknown().optional(),
    assetType: z.unknown().optional(),
  },
  { error: (iss) => (iss.code === 'unrecognized_keys' ? undefined : 'an entry must be a mapping') },
);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates one entry; its problems (unprefixed) or the entry. */
function parseEntry(raw: unknown, maxAssetsPerCall: number, allowSubMinute: boolean): { entry?: ScheduleEntry; problems: string[] } {
  if (!isPlainObject(raw)) {
    return { problems: [`an entry must be a mapping with name, cron, policyItemId, assetIds (and optionally timezone, assetType), got ${show(raw)}`] };
  }
  const problems: string[] = [];
  const fields = entrySchema.safeParse(raw);
  if (!fields.success) {
    for (const issue of fields.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
        problems.push(`unknown field${issue.keys.length > 1 ? 's' : ''} ${keys} (allowed: ${ENTRY_FIELDS.join(', ')})`);
      } else {
        problems.push(issue.message);
      }
    }
  }
  const timezone = typeof raw.timezone === 'string' && isTimeZone(raw.timezone) ? raw.timezone : undefined;
  // The pattern was checked in UTC; a zone Intl knows but cron-parser does not is caught here.
  if (timezone !== undefined && typeof raw.cron === 'string' && cronProblem(raw.cron, DEFAULT_TIMEZONE) === undefined) {
    const p = cronProblem(raw.cron, timezone);
    if (p) problems.push(`timezone ${show(timezone)} cannot be used with cron ${show(raw.cron)}: ${p}`);
  }

  const rescan: Record<string, unknown> = {};
  for (const k of RESCAN_FIELDS) if (k in raw) rescan[k] = raw[k];
  let request: ReturnType<typeof parseRescanRequest> | undefined;
  try {
    request = parseRescanRequest(rescan);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    problems.push(...err.problems);
  }
  if (problems.length > 0 || !fields.success || !request) return { problems };

  const { name, cron } = fields.data;
  if (!allowSubMinute && firesMoreThanOncePerMinute(cron, timezone ?? DEFAULT_TIMEZONE)) {
    return { problems: [`cron ${show(cron)} fires more than once a minute; allow it with --allow-sub-minute (option allowSubMinute) if that is really meant`] };
  }
  const parts = planParts(name, request, maxAssetsPerCall);
  return {
    problems: [],
    entry: {
      name,
      cron,
      timezone: fields.data.timezone ?? DEFAULT_TIMEZONE,
      policyItemId: request.policyItemId,
      assetIds: [...new Set(request.assetIds)],
      ...(request.assetType !== undefined ? { assetType: request.assetType } : {}),
      parts,
    },
  };
}

/** Splits like enqueue does (splitRescan), with the batch id `schedule:<name>` and ids `<name>#k`. */
function planParts(name: string, request: ReturnType<typeof parseRescanRequest>, maxAssetsPerCall: number): SchedulePart[] {
  const chunks = splitRescan(request, maxAssetsPerCall, () => `${SCHEDULE_BATCH_PREFIX}${name}`);
  return chunks.map((data, i) => ({ id: chunks.length === 1 ? name : `${name}#${i + 1}`, data: parseRescanJobData(data) }));
}

/** Largest schedules file accepted, and deepest flow nesting ([ or {) in it. */
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_NESTING = 64;

/** The line where `[`/`{` nesting first goes deeper than MAX_NESTING (outside quotes and comments). */
function deepestNesting(text: string): { line: number } | undefined {
  let depth = 0;
  let line = 1;
  let quote: string | undefined;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      comment = false;
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (c === quote && text[i - 1] !== '\\') quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#') comment = true;
    else if (c === '[' || c === '{') {
      if (++depth > MAX_NESTING) return { line };
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}

/**
 * Parses and validates a schedules file. Throws SchedulesError listing every problem, each prefixed
 * with the entry's name (`entry #N` when the name is missing or bad); YAML syntax errors give the line.
 */
export function parseSchedulesFile(text: string, opts: ParseSchedulesOptions): ScheduleEntry[] {
  const max = opts.maxAssetsPerCall;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new RangeError(`Expected \`maxAssetsPerCall\` to be a whole number from 1 and up, got ${show(max)}`);
  }
  // The YAML parser recurses: a hostile file (huge, or nested thousands deep) must be refused before it.
  const tooDeep = deepestNesting(text);
  if (text.length > MAX_FILE_BYTES) throw new SchedulesError([`the file is ${text.length} bytes; at most ${MAX_FILE_BYTES} are accepted`]);
  if (tooDeep) throw new SchedulesError([`invalid YAML at line ${tooDeep.line}: nested more than ${MAX_NESTING} levels deep`]);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      // An unquoted `cron: */5 * * * *` reads as YAML aliases.
      const hint = e.code === 'BAD_ALIAS' || /alias/i.test(e.message) ? ' (quote cron patterns: cron: "*/5 * * * *")' : '';
      return { line, text: `invalid YAML at line ${line}, column ${col}: ${e.message.split('\n')[0]}${hint}` };
    });
    // One problem per line is enough (a bad line often yields several errors).
    throw new SchedulesError(problems.filter((p, i) => problems.findIndex((q) => q.line === p.line) === i).map((p) => p.text));
  }
  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new SchedulesError([`invalid YAML: ${err instanceof Error ? err.message : String(err)}`]);
  }

  if (!isPlainObject(root)) {
    throw new SchedulesError([`the file must be a mapping with a "schedules" list, got ${show(root)}`]);
  }
  const problems: string[] = [];
  const extra = Object.keys(root).filter((k) => k !== 'schedules');
  if (extra.length > 0) problems.push(`unknown top-level field${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k)).join(', ')} (allowed: schedules)`);
  const list = root.schedules;
  if (!Array.isArray(list)) {
    problems.push(list === undefined ? 'schedules is required: a list of entries' : `schedules must be a list of entries, got ${show(list)}`);
    throw new SchedulesError(problems);
  }

  const entries: ScheduleEntry[] = [];
  const byName = new Map<string, number[]>();
  list.forEach((raw, i) => {
    const rawName = isPlainObject(raw) ? raw.name : undefined;
    const named = typeof rawName === 'string' && NAME_RE.test(rawName);
    const label = named ? rawName : `entry #${i + 1}`;
    if (named) byName.set(rawName, [...(byName.get(rawName) ?? []), i + 1]);
    const r = parseEntry(raw, max, opts.allowSubMinute === true);
    for (const p of r.problems) problems.push(`${label}: ${p}`);
    if (r.entry) entries.push(r.entry);
  });
  for (const [name, at] of byName) {
    if (at.length > 1) problems.push(`${name}: duplicate name (entries ${at.map((n) => `#${n}`).join(', ')}); names must be unique`);
  }
  if (problems.length > 0) throw new SchedulesError(problems);
  return entries;
}

// --- syncing ------------------------------------------------------------------------------------------

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
    if (!named) problems.push(`${label}: name must be 1 to 100 letters, digits, _ . or -, got ${show(e.name)}`);
    if (typeof e.timezone !== 'string' || !isTimeZone(e.timezone)) {
      problems.push(`${label}: timezone must be an IANA time zone such as Asia/Shanghai, got ${show(e.timezone)}`);
    } else {
      const p = typeof e.cron === 'string' ? cronProblem(e.cron, e.timezone) : `cron must be a string, got ${show(e.cron)}`;
      if (p) problems.push(`${label}: ${p}`);
    }
    if (!Array.isArray(e.parts) || e.parts.length === 0) problems.push(`${label}: no parts (entries come from parseSchedulesFile)`);
    for (const [k, part] of (e.parts ?? []).entries()) {
      const expected = e.parts.length === 1 ? e.name : `${e.name}#${k + 1}`;
      if (part.id !== expected) problems.push(`${label}: part ${k + 1} must have id ${show(expected)}, got ${show(part.id)}`);
      if (seen.has(part.id)) problems.push(`${label}: duplicate scheduler id ${show(part.id)}`);
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
  const { jobId: _id, delay: _delay, deduplication: _dedup, repeatJobKey: _key, prevMillis: _prev, timestamp: _ts, ...rest } = jobOpts;
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

function isIdentical(s: JobSchedulerJson, e: ScheduleEntry, part: SchedulePart, opts: JobSchedulerTemplateOptions): boolean {
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
      await queue.upsertJobScheduler(part.id, { pattern: e.cron, tz: e.timezone }, { name: JOB_NAME, data: part.data, opts });
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

// --- reading back -------------------------------------------------------------------------------------

/** Every job scheduler on the queue, sorted by id (`#k` parts in numeric order). */
export async function listSchedules(queue: Queue): Promise<ScheduleInfo[]> {
  const schedulers = await queue.getJobSchedulers(0, -1, true);
  return schedulers
    .map((s): ScheduleInfo => {
      const data: unknown = s.template?.data;
      const d = isPlainObject(data) ? data : {};
      return {
        id: s.key,
        name: s.key.replace(/#\d+$/, ''),
        cron: s.pattern ?? null,
        timezone: s.tz ?? null,
        policyItemId: typeof d.policyItemId === 'number' ? d.policyItemId : null,
        assets: Array.isArray(d.assetIds) ? d.assetIds.length : 0,
        assetType: (ASSET_TYPES as readonly unknown[]).includes(d.assetType) ? (d.assetType as AssetType) : null,
        next: typeof s.next === 'number' && Number.isFinite(s.next) ? new Date(s.next).toISOString() : null,
      };
    })
    .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
}

// --- human output -------------------------------------------------------------------------------------

/** Left-aligned columns, two spaces apart, no trailing blanks. */
function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** One line per scheduler (`added  nightly#1`), then the totals. */
export function formatSyncReport(r: SyncReport): string {
  const rows: string[][] = [];
  for (const action of ['added', 'updated', 'removed', 'unchanged'] as const) {
    for (const id of r[action]) rows.push([action, id]);
  }
  const total = `${r.added.length} added, ${r.updated.length} updated, ${r.removed.length} removed, ${r.unchanged.length} unchanged`;
  return rows.length > 0 ? `${table(rows)}\n${total}` : `no schedules in the file or on the queue\n${total}`;
}

/** A table of the queue's schedulers, next run in UTC. */
export function formatScheduleList(list: ScheduleInfo[]): string {
  if (list.length === 0) return 'no schedules';
  const dash = (v: string | number | null) => (v === null ? '-' : String(v));
  return table([
    ['SCHEDULER', 'CRON', 'TIMEZONE', 'POLICY ITEM', 'ASSETS', 'ASSET TYPE', 'NEXT RUN (UTC)'],
    ...list.map((s) => [
      s.id,
      dash(s.cron),
      dash(s.timezone),
      dash(s.policyItemId),
      String(s.assets),
      dash(s.assetType),
      s.next === null ? '-' : s.next.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    ]),
  ]);
}
