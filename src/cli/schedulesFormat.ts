/** How `schedules sync` and `schedules list` show their results to people (--json prints the objects). */
import type { ScheduleInfo, SyncReport } from '../schedules';

/** Left-aligned columns, two spaces apart, no trailing blanks. */
function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
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
