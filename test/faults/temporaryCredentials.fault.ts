/**
 * Workers on a CAM role (AssumeRole) whose temporary keys expire every 60 s, draining a backlog for
 * more than two minutes: the SDK's provider renews them 30 s before expiry, so no job fails, no worker
 * pauses, and at most one call is refused per renewal.
 */
import { temporaryCredentials } from '../support/identityScenarios';

test('temporary credentials expiring every 60 s: a backlog drained for over two minutes, nothing failed or paused', async () => {
  // 10 req/s without coalescing: 1 400 jobs take 140 s at best (measured: about 170 s on a loaded machine).
  await temporaryCredentials({ jobs: 1400, ttlMs: 60_000, rateLimit: 10, minRunMs: 125_000, timeoutMs: 230_000 });
});
