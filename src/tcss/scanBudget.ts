/**
 * Which shared budget a configuration's calls spend: one per (principal, endpoint host, action), as
 * the API counts its limit (budget/budgetId.ts). The principal is the identity Tencent counts
 * (identity.ts), or TCSS_BUDGET_KEY.
 */
import { budgetId } from '../budget/budgetId';
import type { Config } from '../config';
import { SCAN_ACTION } from './client';

export function budgetIdFrom(config: Pick<Config, 'tcss'>, principal: string): string {
  return budgetId(principal, config.tcss.endpoint.host, SCAN_ACTION);
}
