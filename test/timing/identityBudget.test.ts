/**
 * End to end (worker processes, Redis, the simulator over HTTP), short versions of the fault suite's
 * twoKeys and temporaryCredentials scenarios (test/support/identityScenarios.ts).
 */
import { temporaryCredentials, twoKeysOfOneUser } from '../support/identityScenarios';

jest.setTimeout(120_000);

test('two keys of one CAM user share one budget: at most 20 arrivals in any second, none throttled', async () => {
  await twoKeysOfOneUser(240, 90_000);
});

test('temporary keys expiring every 32 s (renewed every 2 s) drain a backlog: nothing fails, nothing pauses', async () => {
  await temporaryCredentials({ jobs: 160, ttlMs: 32_000, rateLimit: 20, minRunMs: 6_000, timeoutMs: 90_000 });
});
