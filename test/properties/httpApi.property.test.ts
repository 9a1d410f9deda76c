/**
 * Properties of POST /v1/rescans (src/server/app.ts, started with startServer over real HTTP on
 * loopback: Fastify's inject needs an ES-module-only dependency jest cannot load on Node 20), on the
 * suite's Redis: every bad body is
 * refused with a 4xx and a JSON reason that names the rescan and field; never a 500 or a stack; nothing
 * is enqueued on refusal (all or nothing); valid bodies are accepted, deduplicated and split.
 */
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config';
import type { RescanJobData } from '../../src/job';
import { createLogger } from '../../src/logger';
import { RescanProducer } from '../../src/producer';
import { startServer, type RunningServer } from '../../src/server/run';
import { corruptedRescan, looksLikeCrash, nestedJson, validRescan } from '../support/propArbitraries';
import { redisClient, testRedisUrl, uniqueName } from '../support/redis';

jest.setTimeout(60_000);

const TOKEN = 'prop-token-0123456789-0123456789';
const MAX_ASSETS = 7;
const BODY_LIMIT = 1024 * 1024;

let cfg: Config;
let server: RunningServer;
let producer: RescanProducer;
let redis: Redis;

beforeAll(async () => {
  cfg = loadConfig({
    REDIS_URL: testRedisUrl(),
    QUEUE_NAME: uniqueName('prop-http'),
    SERVER_API_TOKEN: TOKEN,
    SERVER_BODY_LIMIT_BYTES: String(BODY_LIMIT),
    SERVER_PORT: '0',
    TCSS_MAX_ASSETS_PER_CALL: String(MAX_ASSETS),
  });
  producer = new RescanProducer({ redisUrl: cfg.redisUrl, queueName: cfg.queueName, maxAssetsPerCall: MAX_ASSETS });
  redis = redisClient();
  server = await startServer(cfg, createLogger('silent'));
});

afterAll(async () => {
  await server.close();
  await producer.queue.obliterate({ force: true });
  await producer.close();
  await redis.quit();
});

async function totalJobs(): Promise<number> {
  return Object.values(await producer.queue.getJobCounts()).reduce((a, b) => a + b, 0);
}

/** JSON text for a generated value: bigints as bare digits (as another language's client would send). */
function toJson(v: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x !== 'bigint') return x;
    marks.push(x.toString());
    return `\u0000big${marks.length - 1}\u0000`;
  });
  return text.replace(/"\\u0000big(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]!);
}

async function post(payload: string, contentType = 'application/json') {
  const res = await fetch(`${server.url}/v1/rescans`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': contentType }, body: payload });
  const text = await res.text();
  let body: { error?: unknown; problems?: unknown; jobIds?: string[]; batchIds?: unknown[] } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // checked by the caller: every answer is JSON
  }
  return { status: res.status, body, text };
}

function expectRefusal(r: Awaited<ReturnType<typeof post>>, statuses: number[] = [400]): void {
  expect(statuses).toContain(r.status);
  expect(typeof r.body.error).toBe('string');
  expect(looksLikeCrash(r.text)).toBe(false);
  expect(r.text).not.toContain('internal error');
}

test('a bad rescan, alone or among good ones, is refused with 400 naming its position and field; nothing is enqueued', async () => {
  await fc.assert(
    // Prototype keys are refused by Fastify's JSON parser before validation: see the test below.
    fc.asyncProperty(fc.array(validRescan, { maxLength: 4 }), corruptedRescan.filter((c) => !/"(__proto__|prototype)"/.test(toJson(c.value))), fc.nat(), async (good, bad, at) => {
      const list: unknown[] = [...good];
      const i = at % (list.length + 1);
      list.splice(i, 0, bad.value);
      const single = list.length === 1;
      const r = await post(toJson(single ? list[0] : list));
      expectRefusal(r);
      expect(r.body.error).toContain('nothing was enqueued');
      const problems = r.body.problems as string[];
      expect(Array.isArray(problems)).toBe(true);
      for (const p of problems) if (!single) expect(p.startsWith(`#${i + 1}: `)).toBe(true);
      for (const field of bad.mustName) {
        // NaN and the infinities become null in JSON: still refused, still named.
        expect(problems.join('\n')).toContain(field);
      }
      expect(await totalJobs()).toBe(0);
    }),
    { numRuns: 60 },
  );
});

test('hostile bodies (not JSON, truncated, deep, huge numbers, prototype keys, wrong shapes) get a 4xx with a reason, never a crash', async () => {
  const hostile = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    validRescan.chain((r) => fc.nat({ max: 60 }).map((n) => JSON.stringify(r).slice(0, n))),
    fc.integer({ min: 1, max: 200_000 }).map((d) => `{"policyItemId":${nestedJson(d)},"assetIds":[1]}`),
    fc.integer({ min: 1, max: 200_000 }).map((d) => nestedJson(d, 'object')),
    fc.constantFrom(
      '',
      'null',
      '0',
      '-1',
      '"rescan"',
      'true',
      '[]',
      '{}',
      '[[]]',
      '[null]',
      '{"policyItemId":1e400,"assetIds":[1]}',
      '{"policyItemId":9007199254740993,"assetIds":[18446744073709551615]}',
      '{"policyItemId":-0.0,"assetIds":[1.0000000000000002]}',
      '{"__proto__":{"policyItemId":1},"assetIds":[1]}',
      '{"constructor":{"prototype":{"x":1}},"policyItemId":1,"assetIds":[1]}',
      '{"policyItemId":1,"policyItemId":2,"assetIds":[1]}',
      '{"policyItemId":1,"assetIds":[1]}garbage',
      '\uFEFF{"policyItemId":1,"assetIds":[1]',
    ),
  );
  await fc.assert(
    fc.asyncProperty(hostile, async (payload) => {
      const before = await totalJobs();
      const r = await post(payload);
      if (r.status === 202) {
        // Only a body that is a valid rescan gets in (e.g. generated JSON that happens to be one).
        expect(r.body.jobIds!.length).toBeGreaterThan(0);
        await producer.queue.obliterate({ force: true });
        return;
      }
      expectRefusal(r, [400, 413]);
      expect(await totalJobs()).toBe(before);
    }),
    { numRuns: 80 },
  );
});

test('a prototype key is refused with 400 naming the field, nothing enqueued', async () => {
  for (const payload of ['{"__proto__":{"policyItemId":1},"policyItemId":1,"assetIds":[1]}', '{"policyItemId":1,"assetIds":[1],"constructor":{"prototype":{"x":1}}}']) {
    const r = await post(payload);
    expectRefusal(r);
    expect(JSON.stringify(r.body)).toMatch(/__proto__|constructor/);
  }
  expect(await totalJobs()).toBe(0);
});

test('too many rescans, oversized bodies and other content types are refused before anything is enqueued', async () => {
  const tooMany = await post(JSON.stringify(Array.from({ length: 10_001 }, (_, i) => ({ policyItemId: 1, assetIds: [i + 1] }))));
  expectRefusal(tooMany);
  expect(tooMany.body.problems).toEqual([expect.stringContaining('at most 10000')]);
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 3 }), fc.constantFrom('assets', 'padding'), async (size, how) => {
      const payload =
        how === 'assets'
          ? `{"policyItemId":1,"assetIds":[${'1,'.repeat(Math.ceil(size / 2))}1]}`
          : `{"policyItemId":1,"assetIds":[1],"x":"${'a'.repeat(size)}"}`;
      expectRefusal(await post(payload), [413]);
    }),
    { numRuns: 4 },
  );
  for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
    expectRefusal(await post('{"policyItemId":1,"assetIds":[1]}', type), [400, 415]);
  }
  expect(await totalJobs()).toBe(0);
});

test('valid rescans are accepted: 202, one job per MAX assets, duplicates removed, each job as the contract says', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(validRescan, { minLength: 1, maxLength: 5 }), async (list) => {
      const r = await post(JSON.stringify(list.length === 1 ? list[0] : list));
      expect(r.status).toBe(202);
      const expected = list.flatMap((q) => {
        const unique = [...new Set(q.assetIds)];
        return Array.from({ length: Math.ceil(unique.length / MAX_ASSETS) }, (_, k) => ({ ...q, assetIds: unique.slice(k * MAX_ASSETS, (k + 1) * MAX_ASSETS) }));
      });
      expect(r.body.jobIds).toHaveLength(expected.length);
      expect(r.body.batchIds).toHaveLength(list.length);
      for (const [k, id] of r.body.jobIds!.entries()) {
        const job = (await producer.queue.getJob(id))!;
        const data = job.data as RescanJobData;
        const want = expected[k]!;
        expect(data.policyItemId).toBe(want.policyItemId);
        expect(data.assetIds).toEqual(want.assetIds);
        expect(data.assetType).toBe(want.assetType);
        expect(job.opts.attempts).toBe(6);
      }
      await producer.queue.obliterate({ force: true });
    }),
    { numRuns: 15 },
  );
});
