import { createHash } from 'node:crypto';

/**
 * The budget's id: one per (principal, endpoint host, action), as the API counts its limit. A hash, so
 * neither the principal nor the host appears in Redis key names (src/keys.ts).
 */
export function budgetId(principal: string, endpointHost: string, action: string): string {
  const digest = createHash('sha256').update(`${principal}\n${endpointHost.toLowerCase()}\n${action}`).digest('hex');
  return `tcss-rescan:budget:{${digest.slice(0, 24)}}`;
}
