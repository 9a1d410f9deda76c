/**
 * The simulator's missing resources (src/simulator/missingResources.ts): asset ids and check items
 * that do not exist. A call naming one is refused whole, with `missingCode` and the ids at fault in the
 * message; set through options or `POST /_sim/faults`, validated like every other fault. Calls go
 * through our real client (signing, exact answers).
 */
import { loadConfig } from '../src/config';
import { startSimulator, type Simulator } from '../src/simulator';
import { TcssApiError, createTcssClient } from '../src/tcss/client';

let sim: Simulator;
afterEach(async () => sim?.close());

async function scan(policyItemId: number, assetIds: number[]): Promise<string> {
  const client = createTcssClient(loadConfig({ TCSS_ENDPOINT: sim.url }).tcss);
  try {
    await client.scan({ policyItemId, assetIds });
    return 'OK';
  } catch (err) {
    if (!(err instanceof TcssApiError)) throw err;
    return err.message;
  } finally {
    client.close();
  }
}

test('a call naming a missing asset is refused whole (default InvalidParameterValue), naming the asset; others pass', async () => {
  sim = await startSimulator({ missingAssetIds: [42, 43] });
  expect(await scan(1, [1, 42, 2])).toBe('InvalidParameterValue: The asset(s) 42 in CustomerAssetIdSet do not exist.');
  expect(await scan(1, [43, 42])).toBe(
    'InvalidParameterValue: The asset(s) 43, 42 in CustomerAssetIdSet do not exist.',
  );
  expect(await scan(1, [1, 2, 3])).toBe('OK');
  // Refused whole: no TaskId for the good assets of a refused call.
  expect(sim.calls().map((c) => [c.code, c.taskId ?? null])).toEqual([
    ['InvalidParameterValue', null],
    ['InvalidParameterValue', null],
    ['OK', 1001],
  ]);
  // A refused call was admitted by the rate limit: it spent budget, as at the real API.
  expect(sim.calls().every((c) => c.admitted)).toBe(true);
});

test('missing check items and the code are set over HTTP, validated, and can be cleared', async () => {
  sim = await startSimulator();
  const post = (body: unknown) =>
    fetch(`${sim.url}/_sim/faults`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${sim.controlToken}` },
      body: JSON.stringify(body),
    });
  const bad = await post({ missingAssetIds: [0] });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { error: string }).error).toContain('`missingAssetIds[0]`');
  expect((await post({ missingCode: 'not a code' })).status).toBe(400);

  const ok = await post({ missingPolicyItemIds: [404], missingCode: 'ResourceNotFound' });
  expect(ok.status).toBe(200);
  expect(await ok.json()).toMatchObject({
    missingPolicyItemIds: [404],
    missingCode: 'ResourceNotFound',
    missingAssetIds: [],
  });
  expect(await scan(404, [1])).toBe('ResourceNotFound: The check item CustomerPolicyItemId 404 does not exist.');
  expect(await scan(405, [1])).toBe('OK');

  expect((await post({ missingPolicyItemIds: [] })).status).toBe(200);
  expect(await scan(404, [1])).toBe('OK');
});
