/**
 * Key rotation leaves one CAM user with two keys; Tencent counts both against one limit. Two groups of
 * workers, one per key, drain a backlog together: the budget is keyed by the UIN (STS
 * GetCallerIdentity), so at most 20 arrive in any second, refused ones counted, and none is throttled.
 */
import { twoKeysOfOneUser } from '../support/identityScenarios';

test('two keys of one CAM user: one budget, at most 20 arrivals in any second, no throttled call', async () => {
  await twoKeysOfOneUser(400, 150_000);
});
