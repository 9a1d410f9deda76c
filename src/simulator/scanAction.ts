/**
 * The one TCSS action the simulator implements, ScanComplianceAssetsByPolicyItem, for a call that
 * passed auth and the rate limit (so whatever it answers, the call spent budget): injected errors
 * first, then the Content-Type and the parameters, then missing resources; a call that passes them
 * all gets the next TaskId.
 */
import type { FaultInjector } from './faults';
import { missingResourceError } from './missingResources';
import { rawPolicyItemId, validateScanParams, type ParsedBody } from './scanParams';

export const TCSS_SERVICE = 'tcss';
export const TCSS_VERSION = '2020-11-01';
export const SCAN_ACTION = 'ScanComplianceAssetsByPolicyItem';

export type ScanAnswer = { ok: true; taskId: number } | { ok: false; code: string; message: string };

/** TaskIds in order from `firstTaskId`, unique per simulator instance (`reset()` does not restart them). */
export class TaskIds {
  constructor(private next: number) {}

  take(): number {
    return this.next++;
  }
}

/** Answers an authenticated, admitted ScanComplianceAssetsByPolicyItem call. */
export function answerScan(
  contentTypeHeader: string | undefined,
  body: () => ParsedBody,
  faults: FaultInjector,
  taskIds: TaskIds,
): ScanAnswer {
  const injected = faults.injectedError(rawPolicyItemId(body()));
  if (injected !== undefined) return { ok: false, ...injected };
  const contentType = contentTypeHeader?.split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json') {
    return {
      ok: false,
      code: 'InvalidRequest',
      message: `Content-Type must be application/json, got ${contentType ?? '(none)'}.`,
    };
  }
  const params = validateScanParams(body());
  if (!params.ok) return { ok: false, ...params.error };
  const missing = missingResourceError(params.params, faults.settings);
  if (missing) return { ok: false, ...missing };
  return { ok: true, taskId: taskIds.take() };
}
