/**
 * The dashboard's job list through bull-board's own JSON API (what its UI renders), with a real worker
 * calling the simulator: titles name the check item and asset count, a permanent API error shows its
 * code, message and RequestId with no stack trace, and the queue offers no retry.
 */
import type { Config } from '../../src/config';
import type { RescanProducer } from '../../src/producer';
import { jobTitle } from '../../src/server/dashboardJobs';
import type { RunningServer } from '../../src/server/run';
import { basicAuth } from '../support/http';
import { waitFor } from '../support/redis';
import { startServerStack, type ServerStack } from '../support/serverStack';

const PASSWORD = 'dashboard-password-0123';
const AUTH = { authorization: basicAuth('admin', PASSWORD) };
const FAILING_ITEM = 668;

let stack: ServerStack;
let cfg: Config;
let server: RunningServer;
let producer: RescanProducer;

const board = async (status: string) => {
  const res = await fetch(
    `${server.url}/dashboard/api/queues?activeQueue=${encodeURIComponent(cfg.queueName)}&status=${status}&page=1`,
    { headers: AUTH },
  );
  expect(res.status).toBe(200);
  const body = (await res.json()) as {
    queues: {
      name: string;
      allowRetries: boolean;
      jobs: { id: string; name: string; failedReason: string; stacktrace: string[] }[];
    }[];
  };
  return body.queues.find((q) => q.name === cfg.queueName)!;
};

beforeAll(async () => {
  stack = await startServerStack({ queuePrefix: 'board', password: PASSWORD, failingItem: FAILING_ITEM, worker: true });
  ({ cfg, producer } = stack);
  server = stack.servers[0]!;
});

afterAll(() => stack?.close());

test('titles, a permanent error without a stack, and no retry', async () => {
  const { jobIds } = await producer.enqueueMany([
    { policyItemId: 2798, assetIds: [1, 2, 3], assetType: 'ASSET_CONTAINER' },
    { policyItemId: FAILING_ITEM, assetIds: [9] },
  ]);
  await waitFor(
    async () => {
      const c = await producer.queue.getJobCounts('completed', 'failed');
      return c.completed === 1 && c.failed === 1;
    },
    30_000,
    100,
    'one completed and one failed job',
  );

  const completed = await board('completed');
  expect(completed.jobs.map((j) => j.name)).toEqual(['rescan · check item 2798 · 3 assets (ASSET_CONTAINER)']);

  const failed = await board('failed');
  expect(failed.allowRetries).toBe(false);
  const [job] = failed.jobs;
  expect(job!.id).toBe(jobIds[1]);
  expect(job!.name).toBe(`rescan · check item ${FAILING_ITEM} · 1 asset`);
  expect(job!.failedReason).toMatch(/^InvalidParameterValue: .+ \(RequestId [0-9a-f-]{36}\)$/);
  expect(job!.stacktrace).toEqual([]);
});

test('data the title cannot read falls back to the job name', () => {
  expect(jobTitle({ name: 'rescan', data: { policyItemId: 'x' } })).toBe('rescan');
  expect(jobTitle({ name: 'other', data: null })).toBe('other');
  expect(jobTitle({ name: 'rescan', data: { policyItemId: 5, assetIds: [1, 2], assetType: 'A'.repeat(100) } })).toBe(
    `rescan · check item 5 · 2 assets (${'A'.repeat(40)})`,
  );
});
