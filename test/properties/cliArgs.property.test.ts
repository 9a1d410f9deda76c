/**
 * Properties of `tcss-rescan enqueue` (the built CLI, spawned: a limited number of runs) over generated
 * arguments: a bad --policy-item, --assets, --asset-type or --priority is refused with exit 1 (refused)
 * or 2 (usage), a message naming each bad field and no stack trace, and nothing is enqueued; valid
 * arguments are enqueued deduplicated and split by TCSS_MAX_ASSETS_PER_CALL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Queue } from 'bullmq';
import { ASSET_TYPES, type RescanJobData } from '../../src/job';
import { runCliAsync } from '../support/cliRun';
import { looksLikeCrash } from '../support/propArbitraries';
import { testRedisUrl, uniqueName } from '../support/redis';

jest.setTimeout(60_000);

const MAX_ASSETS = 4;
let dir: string;
let queueName: string;
let queue: Queue;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tcss-rescan-prop-cli-'));
  queueName = uniqueName('prop-cli');
  queue = new Queue(queueName, { connection: { url: testRedisUrl(), maxRetriesPerRequest: null } });
});

afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  rmSync(dir, { recursive: true, force: true });
});

async function totalJobs(): Promise<number> {
  return Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);
}

const cli = (args: string[]) =>
  runCliAsync(args, { queueName, cwd: dir, env: { TCSS_MAX_ASSETS_PER_CALL: String(MAX_ASSETS) } });

const goodIdText = fc.oneof(
  fc.integer({ min: 1, max: 1_000_000 }).map(String),
  fc.constant(String(Number.MAX_SAFE_INTEGER)),
);
const badIdText = fc.oneof(
  fc.constantFrom(
    '-1',
    '0',
    '00',
    '1.5',
    '2.0e1',
    '1e3',
    '0x10',
    '9007199254740992',
    '9007199254740993',
    '18446744073709551616',
    '1'.repeat(400),
    'abc',
    '',
    ' ',
    'null',
    '[1]',
    '٣',
  ),
  fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((s) => !s.includes(',') && (!/^\s*\d+\s*$/.test(s) || Number(s) < 1 || !Number.isSafeInteger(Number(s)))),
);

interface CliCase {
  args: string[];
  /** Each must appear in the output. */
  mustName: string[];
  /** Refused by argument parsing (exit 2) rather than by validation (exit 1). */
  usage: boolean;
}

const badCase: fc.Arbitrary<CliCase> = fc
  .record({
    policy: fc.option(badIdText, { freq: 2 }),
    assets: fc.option(
      fc.oneof(
        fc.tuple(fc.array(goodIdText, { maxLength: 6 }), badIdText, fc.nat()).map(([good, bad, at]) => {
          const list = [...good];
          list.splice(at % (list.length + 1), 0, bad);
          return list.join(',');
        }),
        fc.constantFrom(',', '1,,2', '1, ,2', ''),
        // Huge: thousands of ids, one bad.
        fc
          .tuple(fc.integer({ min: 2_000, max: 20_000 }), badIdText)
          .map(([n, bad]) => [...Array.from({ length: n }, (_, i) => String(i + 1)), bad].join(',')),
      ),
      { freq: 2 },
    ),
    assetType: fc.option(
      fc.oneof(
        fc.constantFrom('asset_container', 'ASSET_', 'ASSET_CONTAINER ', 'x'),
        fc
          .string({ minLength: 1, maxLength: 10 })
          .filter((s) => !(ASSET_TYPES as readonly string[]).includes(s.trim())),
      ),
      { freq: 3 },
    ),
    priority: fc.option(fc.constantFrom('0', '-1', 'x', '1.5', '2097152', '99999999999999999999', ''), { freq: 4 }),
  })
  .filter((r) => r.policy !== null || r.assets !== null || r.assetType !== null || r.priority !== null)
  .map((r) => {
    const args = ['enqueue', `--policy-item=${r.policy ?? '2798'}`, `--assets=${r.assets ?? '1,2'}`];
    if (r.assetType !== null) args.push(`--asset-type=${r.assetType}`);
    if (r.priority !== null) args.push(`--priority=${r.priority}`);
    const mustName: string[] = [];
    if (r.priority !== null) return { args, mustName: ['--priority'], usage: true };
    if (r.policy !== null) mustName.push('policyItemId');
    if (r.assets !== null) mustName.push('assetIds');
    if (r.assetType !== null) mustName.push('assetType');
    return { args, mustName, usage: false };
  });

test('bad arguments are refused naming each bad field, with no stack trace, and nothing is enqueued', async () => {
  await fc.assert(
    fc.asyncProperty(badCase, fc.boolean(), async (c, json) => {
      const r = await cli(json && !c.usage ? [...c.args, '--json'] : c.args);
      const out = r.stdout + r.stderr;
      expect(r.status).toBe(c.usage ? 2 : 1);
      for (const field of c.mustName) expect(out).toContain(field);
      expect(looksLikeCrash(out)).toBe(false);
      expect(out.length).toBeLessThan(10_000); // twenty problems at most, each brief
      if (json && !c.usage)
        expect(JSON.parse(r.stdout)).toMatchObject({ error: expect.stringContaining('nothing was enqueued') });
      expect(await totalJobs()).toBe(0);
    }),
    { numRuns: 12 },
  );
});

test('valid arguments are enqueued: duplicates removed, split by TCSS_MAX_ASSETS_PER_CALL, one batch', async () => {
  await fc.assert(
    fc.asyncProperty(
      goodIdText,
      fc.array(fc.integer({ min: 1, max: 15 }), { minLength: 1, maxLength: 12 }),
      fc.option(fc.constantFrom(...ASSET_TYPES)),
      async (policy, assets, assetType) => {
        const r = await cli([
          'enqueue',
          `--policy-item=${policy}`,
          `--assets=${assets.join(',')}`,
          ...(assetType ? [`--asset-type=${assetType}`] : []),
          '--json',
        ]);
        expect(r.status).toBe(0);
        const out = JSON.parse(r.stdout) as { jobIds: string[]; batchIds: (string | null)[] };
        const unique = [...new Set(assets)];
        expect(out.jobIds).toHaveLength(Math.ceil(unique.length / MAX_ASSETS));
        const jobs = await Promise.all(out.jobIds.map((id) => queue.getJob(id)));
        const data = jobs.map((j) => j!.data as RescanJobData);
        expect(data.flatMap((d) => d.assetIds)).toEqual(unique);
        for (const d of data) {
          expect(d.policyItemId).toBe(Number(policy));
          expect(d.assetType).toBe(assetType ?? undefined);
          expect(d.batchId).toBe(data.length > 1 ? out.batchIds[0] : undefined);
        }
        await queue.obliterate({ force: true });
      },
    ),
    { numRuns: 3 },
  );
});
