/**
 * Properties of POST /v1/rescans (src/server/routes/rescans.ts, started with startServer over real HTTP on
 * loopback: Fastify's inject needs an ES-module-only dependency jest cannot load on Node 20), on the
 * suite's Redis: every bad body is
 * refused with a 4xx and a JSON reason that names the rescan and field; never a 500 or a stack; nothing
 * is enqueued on refusal (all or nothing); valid bodies are accepted, deduplicated and split.
 *
 * And of the other inputs a client controls (issue 10): job ids in paths (ours and bull-board's),
 * cursors and numbers in query strings, number literals and repeated keys in bodies, the
 * Authorization header, and with SERVER_AUTH=off the Host header: a 4xx for anything we did not issue,
 * never a 5xx; a number is accepted only as exactly the whole number it spells.
 */
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config';
import type { RescanJobData } from '../../src/job';
import { createLogger } from '../../src/logger';
import { RescanProducer } from '../../src/producer';
import { isValidCursor } from '../../src/server/cursor';
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
    // The Authorization property sends wrong credentials on purpose; the limit is tested elsewhere.
    SERVER_LOGIN_MAX_FAILURES: '1000000',
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
  const res = await fetch(`${server.url}/v1/rescans`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': contentType },
    body: payload,
  });
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
    fc.asyncProperty(
      fc.array(validRescan, { maxLength: 4 }),
      corruptedRescan.filter((c) => !/"(__proto__|prototype)"/.test(toJson(c.value))),
      fc.nat(),
      async (good, bad, at) => {
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
      },
    ),
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
  for (const payload of [
    '{"__proto__":{"policyItemId":1},"policyItemId":1,"assetIds":[1]}',
    '{"policyItemId":1,"assetIds":[1],"constructor":{"prototype":{"x":1}}}',
  ]) {
    const r = await post(payload);
    expectRefusal(r);
    expect(JSON.stringify(r.body)).toMatch(/__proto__|constructor/);
  }
  expect(await totalJobs()).toBe(0);
});

test('too many rescans, oversized bodies and other content types are refused before anything is enqueued', async () => {
  const tooMany = await post(
    JSON.stringify(Array.from({ length: 10_001 }, (_, i) => ({ policyItemId: 1, assetIds: [i + 1] }))),
  );
  expectRefusal(tooMany);
  expect(tooMany.body.problems).toEqual([expect.stringContaining('at most 10000')]);
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 3 }),
      fc.constantFrom('assets', 'padding'),
      async (size, how) => {
        const payload =
          how === 'assets'
            ? `{"policyItemId":1,"assetIds":[${'1,'.repeat(Math.ceil(size / 2))}1]}`
            : `{"policyItemId":1,"assetIds":[1],"x":"${'a'.repeat(size)}"}`;
        expectRefusal(await post(payload), [413]);
      },
    ),
    { numRuns: 4 },
  );
  for (const type of [
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
  ]) {
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
        return Array.from({ length: Math.ceil(unique.length / MAX_ASSETS) }, (_, k) => ({
          ...q,
          assetIds: unique.slice(k * MAX_ASSETS, (k + 1) * MAX_ASSETS),
        }));
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

/** GET with the token; the status and the body text. */
async function getText(path: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) {
  const res = await fetch(`${server.url}${path}`, { headers });
  return { status: res.status, text: await res.text() };
}

/** BullMQ's own key names under `bull:<queue>:`, which must never be read as jobs. */
/** bull-board's own GET routes beside `/api/queues/<q>/<jobId>` (node_modules/@bull-board/api/dist/routes.js). */
const BULL_BOARD_GET_ROUTES = ['metrics', 'default-job-options', 'workers', 'rate-limit', 'job-data-schema'];
const BULLMQ_KEY_NAMES = [
  'meta',
  'events',
  'id',
  'wait',
  'active',
  'completed',
  'failed',
  'delayed',
  'prioritized',
  'paused',
  'stalled-check',
  'stalled',
  'marker',
  'limiter',
  'repeat',
  'pc',
  'de',
  'metrics',
];

test("job ids in paths: anything we did not issue is a 404 (ours and bull-board's), never a 5xx", async () => {
  // Make BullMQ's keys exist (meta, events, id, wait, marker...): the ids below must not reach them.
  const { jobIds } = await producer.enqueue({ policyItemId: 1, assetIds: [1] });
  const issued = jobIds[0]!;
  const jobId = fc.oneof(
    fc.constantFrom(...BULLMQ_KEY_NAMES),
    fc.constantFrom(...BULLMQ_KEY_NAMES).map((k) => `${k}:${issued}`),
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
    fc.constantFrom('0', '00', '-1', '1.0', '1e3', ' 1', 'repeat:x', 'repeat:x:1:2', 'repeat::1'),
  );
  try {
    await fc.assert(
      fc.asyncProperty(jobId, async (id) => {
        const path = encodeURIComponent(id);
        for (const url of [
          `/v1/rescans/${path}`,
          `/dashboard/api/queues/${encodeURIComponent(cfg.queueName)}/${path}`,
        ]) {
          const r = await getText(url);
          expect(r.status).toBeLessThan(500);
          expect(looksLikeCrash(r.text)).toBe(false);
          const boardRoute = url.startsWith('/dashboard') && BULL_BOARD_GET_ROUTES.includes(id);
          if (id !== issued && !boardRoute) expect([404, 400]).toContain(r.status);
        }
      }),
      { numRuns: 80 },
    );
    expect((await getText(`/v1/rescans/${issued}`)).status).toBe(200);
  } finally {
    await producer.queue.obliterate({ force: true });
  }
});

test('GET /v1/tasks: any cursor, policyItemId or limit is a 200 or a 400 naming it, never a 5xx; a cursor is taken iff we could have issued it', async () => {
  const u64 = fc.bigInt({ min: 0n, max: 2n ** 66n });
  const cursor = fc.oneof(
    fc.tuple(u64, u64).map(([a, b]) => `${a}-${b}`),
    fc.string({ maxLength: 30 }),
    fc.constantFrom(
      '0-0',
      '0-1',
      '18446744073709551615-18446744073709551615',
      '18446744073709551616-0',
      '1-',
      '-1',
      '01-1',
      '+',
      '-',
      '(1-1',
      '1-1-1',
    ),
  );
  const numberish = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.integer().map(String),
    fc.constantFrom('1e3', '0x10', '1.0', '1.0000000000000001', '9007199254740993', ' 5', '5 ', '-0'),
  );
  await fc.assert(
    fc.asyncProperty(fc.option(cursor), fc.option(numberish), fc.option(numberish), async (c, item, limit) => {
      const q = new URLSearchParams();
      if (c !== null) q.set('cursor', c);
      if (item !== null) q.set('policyItemId', item);
      if (limit !== null) q.set('limit', limit);
      const r = await getText(`/v1/tasks?${q.toString()}`);
      expect([200, 400]).toContain(r.status);
      expect(looksLikeCrash(r.text)).toBe(false);
      const body = JSON.parse(r.text) as { problems?: string[] };
      if (c !== null) expect(body.problems?.some((p) => p.startsWith('cursor')) ?? false).toBe(!isValidCursor(c));
      const plainId = (v: string | null) =>
        v === null || (/^[1-9]\d{0,15}$/.test(v) && Number.isSafeInteger(Number(v)));
      if (!plainId(item)) expect(r.status).toBe(400);
      if (limit !== null && !(/^[1-9]\d{0,3}$/.test(limit) && Number(limit) <= 1000)) expect(r.status).toBe(400);
    }),
    { numRuns: 120 },
  );
});

/** A number literal and the exact value it spells, built so that the value is known. */
const numberLiteral: fc.Arbitrary<{ text: string; whole?: bigint }> = fc.oneof(
  // A whole number, written plainly, with a zero fraction, or with its digits shifted by an exponent.
  fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 60n }), fc.nat({ max: 3 }), fc.nat({ max: 5 })).map(([w, style, k]) => {
    const digits = w.toString();
    if (style === 0) return { text: digits, whole: w };
    if (style === 1) return { text: `${digits}.${'0'.repeat(k + 1)}`, whole: w };
    if (style === 2) return { text: `${digits}${'0'.repeat(k)}e-${k}`, whole: w };
    const head = digits.slice(0, Math.max(1, digits.length - k));
    const tail = digits.slice(head.length);
    return { text: `${head}${tail ? `.${tail}` : ''}E+${tail.length}`, whole: w };
  }),
  // Not whole: a fraction so small that JSON.parse rounds it away (or not).
  fc
    .tuple(fc.bigInt({ min: 0n, max: 2n ** 60n }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 9 }))
    .map(([w, zeros, d]) => ({ text: `${w}.${'0'.repeat(zeros)}${d}` })),
);

test('a number literal is accepted as an id iff it spells exactly a whole number from 1 to 2^53-1, and then as that number', async () => {
  await fc.assert(
    fc.asyncProperty(numberLiteral, fc.boolean(), async (n, inAssets) => {
      const payload = inAssets
        ? `{"policyItemId":5,"assetIds":[${n.text}]}`
        : `{"policyItemId":${n.text},"assetIds":[5]}`;
      const r = await post(payload);
      const ok = n.whole !== undefined && n.whole >= 1n && n.whole <= BigInt(Number.MAX_SAFE_INTEGER);
      if (!ok) {
        expectRefusal(r);
        expect(await totalJobs()).toBe(0);
        return;
      }
      expect(r.status).toBe(202);
      const job = (await producer.queue.getJob(r.body.jobIds![0]!))!;
      const data = job.data as RescanJobData;
      expect(BigInt(inAssets ? data.assetIds[0]! : data.policyItemId)).toBe(n.whole);
      await producer.queue.obliterate({ force: true });
    }),
    { numRuns: 100 },
  );
});

test('an object that names a key twice is refused, wherever it is', async () => {
  const key = fc.oneof(fc.constantFrom('policyItemId', 'assetIds', 'assetType'), fc.string({ maxLength: 10 }));
  await fc.assert(
    fc.asyncProperty(validRescan, key, fc.jsonValue({ maxDepth: 1 }), fc.boolean(), async (rescan, k, v, inArray) => {
      const text = JSON.stringify(rescan);
      const dup = `${JSON.stringify(k)}:${JSON.stringify(v)}`;
      // The key twice in the same object: once added, once more (or as a duplicate of a contract field).
      const once = `{${dup},${text.slice(1)}`;
      const twice = `{${dup},${once.slice(1)}`;
      const r = await post(inArray ? `[${text},${twice}]` : twice);
      expectRefusal(r);
      expect(r.body.error).toContain('duplicate key');
      expect(await totalJobs()).toBe(0);
    }),
    { numRuns: 40 },
  );
});

test('any Authorization header but the right one is a 401, never a 5xx or a way in', async () => {
  const printable = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 60,
  });
  const header = fc.oneof(
    printable,
    printable.map((x) => `Bearer ${x}`),
    printable.map((x) => `Basic ${x}`),
    fc.tuple(printable, printable).map(([u, p]) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`),
    fc.constantFrom(
      'Bearer',
      'Basic',
      'Bearer ',
      'Basic ',
      `Bearer ${TOKEN}x`,
      `bearer  ${TOKEN.slice(1)}`,
      'Basic Og==',
      'Basic ====',
      'Digest x',
    ),
  );
  await fc.assert(
    fc.asyncProperty(
      header.filter((h) => h.trim() !== `Bearer ${TOKEN}` && h.trim() !== ''),
      async (h) => {
        const r = await getText('/v1/tasks', { authorization: h });
        expect(r.status).toBe(401);
        expect(looksLikeCrash(r.text)).toBe(false);
        expect(r.text).not.toContain(TOKEN);
      },
    ),
    { numRuns: 80 },
  );
});

test('with SERVER_AUTH=off, any Host but a loopback name is refused (421); loopback names get in', async () => {
  const open = await startServer(
    loadConfig({ REDIS_URL: testRedisUrl(), QUEUE_NAME: cfg.queueName, SERVER_PORT: '0', SERVER_AUTH: 'off' }),
    createLogger('silent'),
  );
  const port = Number(new URL(open.url).port);
  const { request } = await import('node:http');
  const status = (host: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/healthz', setHost: false, headers: { host } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
  const hostChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-:[]'.split(''));
  const loopback = fc.oneof(
    fc.constant('localhost'),
    fc.tuple(fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.nat({ max: 255 })).map(([a, b, c]) => `127.${a}.${b}.${c}`),
    fc.constant('[::1]'),
  );
  const host = fc.oneof(
    fc
      .tuple(loopback, fc.option(fc.nat({ max: 65_535 })))
      .map(([h, p]) => ({ host: p === null ? h : `${h}:${p}`, loopback: true })),
    fc
      .string({ unit: hostChar, minLength: 1, maxLength: 30 })
      .map((h) => ({ host: h, loopback: undefined as boolean | undefined })),
    fc
      .constantFrom(
        'localhost.evil.example',
        '127.0.0.1.nip.io',
        'evil.example',
        '0.0.0.0',
        '[::ffff:127.0.0.1]',
        '127.1',
        'localhost:3000@evil',
      )
      .map((h) => ({ host: h, loopback: false })),
  );
  try {
    await fc.assert(
      fc.asyncProperty(host, async (h) => {
        const got = await status(h.host);
        const want = h.loopback ?? /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d{1,5})?$/i.test(h.host);
        if (want) expect(got).toBe(200);
        else expect([400, 421]).toContain(got);
      }),
      { numRuns: 80 },
    );
  } finally {
    await open.close();
  }
});
