/**
 * Resources that do not exist: asset ids and check items the simulator is told to refuse. A call that
 * names one of them is refused whole, as the real API refuses a call with one unknown id in it (issue
 * 8.3), with `missingCode` (default InvalidParameterValue; ResourceNotFound is the other usual answer).
 * The message names the ids at fault, as a real answer would. Checked after auth, the rate limit and
 * the parameters' shape, so such a call spends budget.
 */
import type { ScanParams } from './scanParams';

export interface MissingResources {
  /** CustomerAssetIdSet members that do not exist. */
  missingAssetIds: readonly number[];
  /** CustomerPolicyItemIds that do not exist. */
  missingPolicyItemIds: readonly number[];
  /** Code answered for a call naming one of them. */
  missingCode: string;
}

export const DEFAULT_MISSING_CODE = 'InvalidParameterValue';

/** The refusal for a call naming a missing resource, or undefined when everything it names exists. */
export function missingResourceError(
  params: Pick<ScanParams, 'policyItemId' | 'assetIds'>,
  m: MissingResources,
): { code: string; message: string } | undefined {
  if (m.missingPolicyItemIds.includes(params.policyItemId)) {
    return {
      code: m.missingCode,
      message: `The check item CustomerPolicyItemId ${params.policyItemId} does not exist.`,
    };
  }
  if (m.missingAssetIds.length === 0) return undefined;
  const missing = new Set(m.missingAssetIds);
  const found = params.assetIds.filter((id) => missing.has(id));
  if (found.length === 0) return undefined;
  const shown = found.slice(0, 10).join(', ') + (found.length > 10 ? `, ... (${found.length} in all)` : '');
  return { code: m.missingCode, message: `The asset(s) ${shown} in CustomerAssetIdSet do not exist.` };
}
