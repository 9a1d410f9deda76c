/**
 * The job contract (src/job.ts): what is accepted at the door, how every problem is reported at once
 * naming its field, and how a request is split into jobs.
 */
import {
  ASSET_TYPES,
  JOB_NAME,
  ValidationError,
  parseRescanJobData,
  parseRescanRequest,
  splitRescan,
  type RescanRequest,
} from '../src/job';

/** The problems a ValidationError lists for `input` (fails the test when nothing is thrown). */
function problemsOf(input: unknown, parse: (v: unknown) => unknown = parseRescanRequest): string[] {
  try {
    parse(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    const e = err as ValidationError;
    expect(e.name).toBe('ValidationError');
    expect(e.code).toBe('INVALID_RESCAN');
    expect(e.message).toBe(e.problems.join('; '));
    return e.problems;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

/** Exactly one problem starts with `field`, and it contains every fragment. */
function expectProblem(problems: string[], field: string, ...fragments: string[]): void {
  const matching = problems.filter((p) => p.startsWith(field));
  expect(matching).toHaveLength(1);
  for (const f of fragments) expect(matching[0]).toContain(f);
}

describe('parseRescanRequest', () => {
  test('a valid request passes unchanged', () => {
    const req = { policyItemId: 2798, assetIds: [2202462, 111], assetType: 'ASSET_CONTAINER' };
    expect(parseRescanRequest(req)).toEqual(req);
    expect(parseRescanRequest({ policyItemId: 1, assetIds: [Number.MAX_SAFE_INTEGER] })).toEqual({
      policyItemId: 1,
      assetIds: [Number.MAX_SAFE_INTEGER],
    });
    for (const assetType of ASSET_TYPES)
      expect(parseRescanRequest({ policyItemId: 1, assetIds: [1], assetType }).assetType).toBe(assetType);
    expect(JOB_NAME).toBe('rescan');
  });

  test.each([
    ['negative', -3, '-3'],
    ['zero', 0, '0'],
    ['fractional', 2.5, '2.5'],
    ['a string', '2798', '"2798"'],
    ['null', null, 'null'],
    ['beyond 2^53-1', 2 ** 53, String(2 ** 53)],
    ['NaN', Number.NaN, 'NaN'],
  ])('policyItemId %s is refused, naming the field and the value', (_what, policyItemId, shown) => {
    const problems = problemsOf({ policyItemId, assetIds: [1] });
    expect(problems).toHaveLength(1);
    expectProblem(problems, 'policyItemId', 'positive whole number', `got ${shown}`);
  });

  test('a missing field is reported as required', () => {
    expect(problemsOf({ assetIds: [1] })).toEqual(['policyItemId is required']);
    expect(problemsOf({ policyItemId: 1 })).toEqual(['assetIds is required']);
    expect(problemsOf({})).toEqual(['policyItemId is required', 'assetIds is required']);
  });

  test('assetIds empty or not an array is refused, naming the field', () => {
    expectProblem(problemsOf({ policyItemId: 1, assetIds: [] }), 'assetIds', 'at least one');
    expectProblem(problemsOf({ policyItemId: 1, assetIds: '1,2' }), 'assetIds', 'array', '"1,2"');
    expectProblem(problemsOf({ policyItemId: 1, assetIds: 5 }), 'assetIds', 'array', 'got 5');
    expectProblem(problemsOf({ policyItemId: 1, assetIds: { 0: 1 } }), 'assetIds', 'array');
  });

  test('bad asset ids are each named by index and value', () => {
    const problems = problemsOf({ policyItemId: 1, assetIds: [7, 'x', null, 2.5, -1, 2 ** 53, 8] });
    expect(problems).toHaveLength(5);
    expectProblem(problems, 'assetIds[1]', '"x"');
    expectProblem(problems, 'assetIds[2]', 'null');
    expectProblem(problems, 'assetIds[3]', '2.5');
    expectProblem(problems, 'assetIds[4]', '-1');
    expectProblem(problems, 'assetIds[5]', String(2 ** 53));
    expect(problems.some((p) => p.includes('assetIds[0]') || p.includes('assetIds[6]'))).toBe(false);
  });

  test('a wrong assetType is refused, listing the allowed values and the value received', () => {
    const problems = problemsOf({ policyItemId: 1, assetIds: [1], assetType: 'asset_container' });
    expect(problems).toHaveLength(1);
    expectProblem(problems, 'assetType', 'ASSET_CONTAINER', 'ASSET_CONTAINERD_CONTAINER', '"asset_container"');
    expectProblem(problemsOf({ policyItemId: 1, assetIds: [1], assetType: 3 }), 'assetType', 'got 3');
  });

  test('unknown fields are named, with the allowed ones', () => {
    const problems = problemsOf({ policyItemId: 1, assetIds: [1], policyItemID: 1, assets: [2] });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('"policyItemID"');
    expect(problems[0]).toContain('"assets"');
    expect(problems[0]).toContain('allowed: policyItemId, assetIds, assetType');
  });

  test('every problem is listed at once', () => {
    const problems = problemsOf({ policyItemId: -1, assetIds: [1, 'two'], assetType: 'BAD', extra: true });
    expect(problems).toHaveLength(4);
    expectProblem(problems, 'policyItemId', '-1');
    expectProblem(problems, 'assetIds[1]', '"two"');
    expectProblem(problems, 'assetType', '"BAD"');
    expectProblem(problems, 'unknown field', '"extra"');
  });

  test.each([
    ['null', null, 'null'],
    ['an array', [{ policyItemId: 1, assetIds: [1] }], '[{'],
    ['a number', 2798, '2798'],
    ['a string', '{"policyItemId":1}', '"{\\"policyItemId\\":1}"'],
    ['undefined', undefined, 'nothing'],
  ])('%s is refused as not an object', (_what, input, shown) => {
    const problems = problemsOf(input);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('must be an object');
    expect(problems[0]).toContain(shown);
  });

  test('a huge array of bad ids is summarised, not listed whole (at most 21 lines)', () => {
    const assetIds = Array.from({ length: 10_000 }, (_, i) => `id-${i}`);
    const problems = problemsOf({ policyItemId: 1, assetIds });
    expect(problems.length).toBeLessThanOrEqual(21);
    expect(problems[0]).toContain('assetIds[0]');
    expect(problems[problems.length - 1]).toMatch(/and \d+ more problems/);
    // A whole summary stays small enough to print or log.
    expect(problems.join('; ').length).toBeLessThan(5_000);
  });

  test('long values are shortened in messages', () => {
    const problems = problemsOf({ policyItemId: 'x'.repeat(10_000), assetIds: [1] });
    expect(problems[0]!.length).toBeLessThan(200);
  });
});

describe('parseRescanJobData', () => {
  test('accepts a batchId and unique asset ids', () => {
    const data = { policyItemId: 2798, assetIds: [1, 2], assetType: 'ASSET_HOST', batchId: 'b-1' };
    expect(parseRescanJobData(data)).toEqual(data);
    expect(parseRescanJobData({ policyItemId: 2798, assetIds: [1] })).toEqual({ policyItemId: 2798, assetIds: [1] });
  });

  test('refuses duplicate asset ids (the request schema allows them; splitting removes them)', () => {
    expect(parseRescanRequest({ policyItemId: 1, assetIds: [5, 5] }).assetIds).toEqual([5, 5]);
    expectProblem(problemsOf({ policyItemId: 1, assetIds: [5, 6, 5] }, parseRescanJobData), 'assetIds', 'duplicates');
  });

  test('lists the same field problems as requests, and allows batchId among the fields', () => {
    const problems = problemsOf({ policyItemId: 0, assetIds: ['a'], nope: 1 }, parseRescanJobData);
    expectProblem(problems, 'policyItemId', 'got 0');
    expectProblem(problems, 'assetIds[0]', '"a"');
    expectProblem(problems, 'unknown field', '"nope"', 'batchId');
  });

  test.each([
    ['empty', ''],
    ['a number', 42],
    ['too long', 'b'.repeat(201)],
  ])('a bad batchId (%s) is refused with a problem naming batchId', (_what, batchId) => {
    const problems = problemsOf({ policyItemId: 1, assetIds: [1], batchId }, parseRescanJobData);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('batchId');
  });
});

describe('splitRescan', () => {
  let n = 0;
  const newBatchId = () => `batch-${++n}`;

  test('one part: deduplicated, no batchId', () => {
    const req: RescanRequest = { policyItemId: 9, assetIds: [3, 1, 3, 2, 1], assetType: 'ASSET_IMAGE' };
    const calls = n;
    expect(splitRescan(req, 100, newBatchId)).toEqual([
      { policyItemId: 9, assetIds: [3, 1, 2], assetType: 'ASSET_IMAGE' },
    ]);
    expect(n).toBe(calls); // no batch id was even made
  });

  test('exactly max unique assets (after dedupe) stays one part', () => {
    const parts = splitRescan({ policyItemId: 9, assetIds: [1, 2, 3, 1, 2] }, 3, newBatchId);
    expect(parts).toEqual([{ policyItemId: 9, assetIds: [1, 2, 3] }]);
    expect('assetType' in parts[0]!).toBe(false);
    expect('batchId' in parts[0]!).toBe(false);
  });

  test('splits at max keeping first occurrences in order, sharing one batchId', () => {
    const parts = splitRescan({ policyItemId: 9, assetIds: [5, 4, 5, 3, 2, 4, 1, 0 + 6, 7] }, 3, newBatchId);
    expect(parts.map((p) => p.assetIds)).toEqual([[5, 4, 3], [2, 1, 6], [7]]);
    const ids = new Set(parts.map((p) => p.batchId));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^batch-\d+$/);
    for (const p of parts) {
      expect(p.policyItemId).toBe(9);
      expect(parseRescanJobData(p)).toEqual(p); // every part honours the job contract
    }
  });

  test('each split request gets its own batchId', () => {
    const a = splitRescan({ policyItemId: 1, assetIds: [1, 2] }, 1, newBatchId);
    const b = splitRescan({ policyItemId: 1, assetIds: [1, 2] }, 1, newBatchId);
    expect(a[0]!.batchId).toBeDefined();
    expect(a[0]!.batchId).not.toBe(b[0]!.batchId);
  });
});
