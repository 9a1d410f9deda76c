/**
 * Properties of the job contract (src/job.ts), over generated input: every bad rescan is refused with a
 * ValidationError whose problems name each broken field; nothing else is ever thrown, whatever the
 * value; valid rescans are accepted unchanged and split into jobs that each pass the worker's check.
 */
import fc from 'fast-check';
import { ValidationError, parseRescanJobData, parseRescanRequest, splitRescan } from '../../src/job';
import { validateAll } from '../../src/producer';
import { badId, corruptedRescan, goodId, looksLikeCrash, nested, validRescan } from '../support/propArbitraries';

/** The ValidationError thrown by `fn`, or a failure. */
function refusal(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw new Error(`expected a ValidationError, got ${(err as Error)?.stack ?? String(err)}`, { cause: err });
  }
  throw new Error('expected a ValidationError, the input was accepted');
}

function expectWellFormed(e: ValidationError): void {
  expect(e.name).toBe('ValidationError');
  expect(e.code).toBe('INVALID_RESCAN');
  expect(e.problems.length).toBeGreaterThan(0);
  expect(e.problems.length).toBeLessThanOrEqual(21); // 20 listed, then "... and N more problems"
  for (const p of e.problems) {
    expect(typeof p).toBe('string');
    expect(p.length).toBeLessThan(2_000); // a huge value is described briefly, never echoed whole
    expect(looksLikeCrash(p)).toBe(false);
  }
}

describe('parseRescanRequest / parseRescanJobData', () => {
  test('a rescan with broken fields is refused, and each broken field is named', () => {
    fc.assert(
      fc.property(corruptedRescan, ({ value, mustName }) => {
        for (const parse of [parseRescanRequest, parseRescanJobData]) {
          const e = refusal(() => parse(value));
          expectWellFormed(e);
          const text = e.problems.join('\n');
          for (const field of mustName) expect(text).toContain(field);
        }
      }),
      { numRuns: 150 },
    );
  });

  test('anything at all: accepted, or refused with a ValidationError; never a crash', () => {
    const anything = fc.anything({
      maxDepth: 4,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    });
    const shaped = fc.record(
      {
        policyItemId: fc.oneof(anything, goodId),
        assetIds: fc.oneof(anything, fc.array(fc.oneof(anything, goodId), { maxLength: 5 })),
        assetType: anything,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(anything, shaped), (input) => {
        for (const parse of [parseRescanRequest, parseRescanJobData]) {
          try {
            parse(input);
          } catch (err) {
            expect(err).toBeInstanceOf(ValidationError);
            expectWellFormed(err as ValidationError);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  test('ids beyond 2^53, negative, fractional, strings and nulls are refused wherever they appear', () => {
    fc.assert(
      fc.property(badId, fc.nat({ max: 4 }), goodId, (bad, at, good) => {
        const ids: unknown[] = [good, good - 1, good - 2, good - 3].filter((n) => n > 0);
        at = Math.min(at, ids.length);
        ids.splice(at, 0, bad);
        expect(refusal(() => parseRescanRequest({ policyItemId: bad, assetIds: [good] })).problems.join()).toContain(
          'policyItemId',
        );
        expect(refusal(() => parseRescanRequest({ policyItemId: good, assetIds: ids })).problems.join()).toContain(
          `assetIds[${at}]`,
        );
      }),
      { numRuns: 300 },
    );
  });

  test('deep nesting anywhere is refused without overflowing the stack', () => {
    for (const depth of [1_000, 100_000]) {
      for (const kind of ['array', 'object'] as const) {
        const deep = nested(depth, 1, kind);
        for (const input of [
          deep,
          { policyItemId: deep, assetIds: [1] },
          { policyItemId: 1, assetIds: [deep] },
          { policyItemId: 1, assetIds: [1], assetType: deep },
          { policyItemId: 1, assetIds: [1], extra: deep },
        ]) {
          expectWellFormed(refusal(() => parseRescanRequest(input)));
          expectWellFormed(refusal(() => parseRescanJobData(input)));
        }
      }
    }
  });

  test('a huge unknown field name is named briefly, not echoed whole', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_000, max: 100_000 }), fc.constantFrom('x', 'é', '"'), (n, ch) => {
        const key = ch.repeat(n);
        for (const parse of [parseRescanRequest, parseRescanJobData]) {
          const e = refusal(() => parse({ policyItemId: 1, assetIds: [1], [key]: 1 }));
          expect(e.problems.join()).toContain('unknown field');
          expect(e.message.length).toBeLessThan(1_000);
        }
      }),
      { numRuns: 20 },
    );
  });

  test('a job with duplicate assets, or a bad batchId, is refused by the worker, naming the field', () => {
    fc.assert(
      fc.property(
        validRescan,
        fc.oneof(
          fc.constant(''),
          fc.string({ minLength: 201, maxLength: 400 }),
          fc.integer(),
          fc.constant(null),
          fc.array(fc.string(), { maxLength: 2 }),
        ),
        (r, batchId) => {
          const dup = { policyItemId: r.policyItemId, assetIds: [...r.assetIds, r.assetIds[0]!] };
          expect(refusal(() => parseRescanJobData(dup)).problems.join()).toContain('assetIds');
          const e = refusal(() =>
            parseRescanJobData({ policyItemId: r.policyItemId, assetIds: [...new Set(r.assetIds)], batchId }),
          );
          expectWellFormed(e);
          expect(e.problems.join()).toContain('batchId');
        },
      ),
      { numRuns: 200 },
    );
  });

  test('in a list, one bad rescan refuses the whole list, naming it by position', () => {
    fc.assert(
      fc.property(fc.array(validRescan, { minLength: 1, maxLength: 8 }), corruptedRescan, fc.nat(), (good, bad, at) => {
        const list: unknown[] = [...good];
        const i = at % (list.length + 1);
        list.splice(i, 0, bad.value);
        const e = refusal(() => validateAll(list));
        for (const p of e.problems) expect(p).toMatch(new RegExp(`^#${i + 1}: `));
      }),
      { numRuns: 150 },
    );
  });
});

describe('valid rescans', () => {
  test('are accepted unchanged, and split into jobs that the worker accepts: deduplicated, at most max assets, one batch id when split', () => {
    fc.assert(
      fc.property(validRescan, fc.integer({ min: 1, max: 120 }), (r, max) => {
        expect(parseRescanRequest(r)).toEqual(r);
        let n = 0;
        const jobs = splitRescan(parseRescanRequest(r), max, () => `batch-${++n}`);
        const unique = [...new Set(r.assetIds)];
        expect(jobs.flatMap((j) => j.assetIds)).toEqual(unique); // order kept, duplicates gone
        expect(jobs).toHaveLength(Math.ceil(unique.length / max));
        for (const j of jobs) {
          expect(parseRescanJobData(j)).toEqual(j);
          expect(j.assetIds.length).toBeLessThanOrEqual(max);
          expect(j.policyItemId).toBe(r.policyItemId);
          expect(j.assetType).toBe(r.assetType);
          expect(j.batchId).toBe(jobs.length > 1 ? 'batch-1' : undefined);
        }
        // The job data survives JSON (Redis) unchanged.
        for (const j of jobs) expect(parseRescanJobData(JSON.parse(JSON.stringify(j)))).toEqual(j);
      }),
      { numRuns: 300 },
    );
  });
});
