/** Reading the queue's job schedulers back, as `schedules list` shows them. */
import type { Queue } from 'bullmq';
import { ASSET_TYPES, type AssetType } from '../job';
import { isPlainObject } from './entry';

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
