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
 *   entry.ts  the validated entry, its parts (one job scheduler each) and SchedulesError
 *   cron.ts   cron patterns and time zones, read as BullMQ reads them
 *   parse.ts  the file format: YAML -> validated entries
 *   sync.ts   entries -> the queue's job schedulers (SCHEDULED_PRIORITY)
 *   list.ts   the queue's job schedulers, read back
 * How they are shown to people is the CLI's (src/cli/schedulesFormat.ts).
 */
export { DEFAULT_TIMEZONE, SCHEDULE_BATCH_PREFIX, SchedulesError } from './entry';
export type { ScheduleEntry, SchedulePart } from './entry';
export { firesMoreThanOncePerMinute } from './cron';
export { parseSchedulesFile } from './parse';
export type { ParseSchedulesOptions } from './parse';
export { SCHEDULED_PRIORITY, syncSchedules } from './sync';
export type { SyncReport } from './sync';
export { listSchedules } from './list';
export type { ScheduleInfo } from './list';
