/**
 * How the dashboard (bull-board) shows our jobs:
 * - a title with the check item, the asset count and type, not just the job name `rescan` (the name
 *   is the contract and stays; bull-board's `name` formatter changes only what is shown);
 * - no "retry" button: bull-board can hide retries only per queue (`allowRetries`, felixmosh/bull-board
 *   PR #384), and on this queue every failed job failed for good: the API refused the request (the
 *   same call would be refused again), the job broke the contract, or its attempts ran out (enqueue the
 *   rescan again with the CLI or the API once the cause is fixed);
 * - a failed job shows its code, message and RequestId without a stack trace: the worker does not
 *   store stacks for API errors and invalid jobs (src/worker/).
 */
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { Queue } from 'bullmq';

interface ShownJob {
  name?: string;
  data?: unknown;
}

/** "rescan · check item 2798 · 3 assets (ASSET_CONTAINER)"; the plain name for data it cannot read. */
export function jobTitle(job: ShownJob): string {
  const name = job.name ?? '';
  const d = job.data as { policyItemId?: unknown; assetIds?: unknown; assetType?: unknown } | null | undefined;
  if (typeof d !== 'object' || d === null || typeof d.policyItemId !== 'number' || !Array.isArray(d.assetIds))
    return name;
  const n = d.assetIds.length;
  const type = typeof d.assetType === 'string' ? ` (${d.assetType.slice(0, 40)})` : '';
  return `${name} · check item ${d.policyItemId} · ${n} asset${n === 1 ? '' : 's'}${type}`;
}

export function dashboardAdapter(queue: Queue, readOnlyMode: boolean): BullMQAdapter {
  const adapter = new BullMQAdapter(queue, {
    readOnlyMode,
    allowRetries: false,
    description: 'ScanComplianceAssetsByPolicyItem rescans; a completed job shows its TaskId in its return value',
  });
  adapter.setFormatter('name', (job: ShownJob) => jobTitle(job));
  return adapter;
}
