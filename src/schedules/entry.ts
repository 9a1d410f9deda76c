/**
 * A schedule entry as the rest of the folder sees it: the validated entry, the job schedulers it
 * becomes, the error that lists what is wrong with a file, and how those problems quote values.
 */
import type { AssetType, RescanJobData } from '../job';
import { ProblemsError } from '../problems';

/** Time zone of an entry without `timezone`. Always stored explicitly: without `tz` BullMQ reads the
 *  pattern in the local zone of whichever process computes the next run. */
export const DEFAULT_TIMEZONE = 'UTC';

/** The prefix of the batch id shared by the parts of a split entry: `schedule:<name>`. */
export const SCHEDULE_BATCH_PREFIX = 'schedule:';

/** An entry name: 1 to 100 letters, digits, `_`, `.`, `-` (so a scheduler id never holds ':'). */
export const NAME_RE = /^[A-Za-z0-9_.-]{1,100}$/;

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

/** A schedules file (or entry list) that cannot be applied: lists every problem, each naming its entry. */
export class SchedulesError extends ProblemsError {
  override readonly name = 'SchedulesError';
  readonly code = 'INVALID_SCHEDULES';
  constructor(problems: string[]) {
    super(problems, `Invalid schedules:\n  - ${problems.join('\n  - ')}`);
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
