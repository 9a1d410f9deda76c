/**
 * The warm-up before a worker's first call (src/tcss/warmUp.ts): it goes through the SDK's path to the
 * endpoint, is not an API call (the simulator logs no call, no budget is spent), and leaves an open
 * keep-alive connection in the agent's pool for the first real call.
 */
import http from 'node:http';
import { startSimulator, type Simulator } from '../../src/simulator';
import { WARM_UP_PATH, warmUp } from '../../src/tcss/warmUp';

describe('warm-up', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ countThrottled: true, rateLimit: 1 });
  });
  afterAll(async () => {
    await sim.close();
  });

  test('reaches the endpoint on a path that is not the API, spends nothing, keeps the connection open', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    try {
      const r = await warmUp({ origin: sim.url, agent, service: 'tcss', version: '2020-11-01', timeoutMs: 5000 });
      expect(r.error).toBeUndefined();
      expect(r.status).toBe(404);
      expect(WARM_UP_PATH).not.toBe('/');
      // Not an API call: nothing logged, nothing counted (a limit of 1 would show any count).
      expect(sim.calls()).toHaveLength(0);
      expect(sim.stats().total).toBe(0);
      // The socket waits in the pool for the first real call.
      expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
    } finally {
      agent.destroy();
    }
  });

  test('an unreachable endpoint is reported, not thrown', async () => {
    const agent = new http.Agent({ keepAlive: true });
    try {
      const r = await warmUp({
        origin: 'http://127.0.0.1:9',
        agent,
        service: 'tcss',
        version: '2020-11-01',
        timeoutMs: 2000,
      });
      expect(r.status).toBeUndefined();
      expect(r.error).toMatch(/ECONNREFUSED|connect/);
    } finally {
      agent.destroy();
    }
  });
});
