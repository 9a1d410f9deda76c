/**
 * fast-check arbitraries for hostile input, shared by the property tests (test/properties/): bad ids,
 * bad asset lists, bad asset types, unknown fields, deep nesting, and "corruptions" of a valid rescan
 * that remember which field they broke, so a property can require that the refusal names it.
 */
import fc from 'fast-check';
import { ASSET_TYPES } from '../../src/job';

export const FIELDS = ['policyItemId', 'assetIds', 'assetType'] as const;

/** Values that are not a positive whole number <= 2^53-1 (as a JS value, before any JSON). */
export const badId: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ max: 0 }),
  fc.double({ noNaN: false }).filter((d) => !(Number.isSafeInteger(d) && d > 0)),
  fc.constantFrom(
    2 ** 53,
    2 ** 53 + 2,
    2 ** 64,
    1e21,
    1e308,
    Number.MAX_VALUE,
    -1,
    0,
    -0,
    0.5,
    1.5,
    -2.5,
    Number.NaN,
    Infinity,
    -Infinity,
  ),
  fc
    .bigInt()
    .map((b) => (b > 0n && b <= BigInt(Number.MAX_SAFE_INTEGER) ? b + 2n ** 60n : b))
    .map((b) => b as unknown),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('2798', '1e3', '0x10', '', ' ', '9007199254740993', '-1', 'NaN'),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
);

/** A valid id: a positive safe integer, often small, sometimes at the edge. */
export const goodId: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: 1, max: 10_000 }),
  fc.constantFrom(1, Number.MAX_SAFE_INTEGER, 2 ** 52),
  fc.maxSafeNat().filter((n) => n > 0),
);

/** A value nested `depth` levels deep in arrays or objects. */
export function nested(depth: number, leaf: unknown = 1, kind: 'array' | 'object' = 'array'): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}

/** The same, as JSON text built without recursion (JSON.stringify would overflow the stack). */
export function nestedJson(depth: number, kind: 'array' | 'object' = 'array'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

export const deep: fc.Arbitrary<unknown> = fc
  .tuple(fc.integer({ min: 2, max: 1000 }), fc.constantFrom<'array' | 'object'>('array', 'object'))
  .map(([d, k]) => nested(d, 1, k));

/** A bad assetIds value: not an array, empty, huge, or with bad elements at random places. */
export const badAssetIds: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant([]),
  fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.constant(null),
    fc.boolean(),
    fc.dictionary(fc.string({ maxLength: 4 }), fc.integer(), { maxKeys: 3 }),
  ),
  fc
    .tuple(fc.array(goodId, { maxLength: 20 }), fc.array(badId, { minLength: 1, maxLength: 5 }))
    .chain(([good, bad]) => fc.shuffledSubarray([...good, ...bad], { minLength: good.length + bad.length })),
  // Huge: tens of thousands of elements, some bad.
  fc.tuple(fc.integer({ min: 20_000, max: 60_000 }), badId, fc.nat()).map(([n, bad, at]) => {
    const a: unknown[] = Array.from({ length: n }, (_, i) => i + 1);
    a[at % n] = bad;
    return a;
  }),
  deep.map((d) => [d]),
);

/** A string that is not one of the asset types (or not a string at all). */
export const badAssetType: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 40 }).filter((s) => !(ASSET_TYPES as readonly string[]).includes(s)),
  fc.constantFrom(
    ...ASSET_TYPES.map((t) => t.toLowerCase()),
    ...ASSET_TYPES.map((t) => ` ${t}`),
    'ASSET_',
    'asset_container',
  ),
  fc.integer(),
  fc.constant(null),
  fc.array(fc.constantFrom(...ASSET_TYPES), { minLength: 1, maxLength: 2 }),
);

/** A field name that is not part of the contract (including prototype-ish names). */
export const unknownKey: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ minLength: 1, maxLength: 20 }),
    fc.constantFrom(
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'policyItemID',
      'assetIDs',
      'asset_type',
      'assets',
      '',
    ),
    // batchId is allowed in job data (set by us) and unknown in a request: tested on its own.
  )
  .filter((k) => !(FIELDS as readonly string[]).includes(k) && k !== 'batchId');

export interface ValidRescan {
  policyItemId: number;
  assetIds: number[];
  assetType?: (typeof ASSET_TYPES)[number];
}

export const validRescan: fc.Arbitrary<ValidRescan> = fc.record(
  {
    policyItemId: goodId,
    // Duplicates on purpose: they are removed at the door.
    assetIds: fc.array(fc.oneof(goodId, fc.integer({ min: 1, max: 20 })), { minLength: 1, maxLength: 300 }),
    assetType: fc.constantFrom(...ASSET_TYPES),
  },
  { requiredKeys: ['policyItemId', 'assetIds'] },
);

/** A rescan with one or more fields broken, and which field names each refusal must mention. */
export interface Corrupted {
  value: Record<string, unknown>;
  /** Each entry must be named by at least one problem. */
  mustName: string[];
}

export const corruptedRescan: fc.Arbitrary<Corrupted> = fc
  .record({
    base: validRescan,
    policyItemId: fc.option(fc.oneof(badId, deep, fc.constant(undefined)), { freq: 2 }),
    assetIds: fc.option(fc.oneof(badAssetIds, fc.constant(undefined)), { freq: 2 }),
    assetType: fc.option(badAssetType, { freq: 2 }),
    extra: fc.option(fc.tuple(unknownKey, fc.oneof(fc.jsonValue({ maxDepth: 2 }), deep)), { freq: 3 }),
  })
  .filter((r) => r.policyItemId !== null || r.assetIds !== null || r.assetType !== null || r.extra !== null)
  .map((r) => {
    const value: Record<string, unknown> = { ...r.base };
    const mustName: string[] = [];
    if (r.policyItemId !== null) {
      if (r.policyItemId === undefined) delete value.policyItemId;
      else value.policyItemId = r.policyItemId;
      mustName.push('policyItemId');
    }
    if (r.assetIds !== null) {
      if (r.assetIds === undefined) delete value.assetIds;
      else value.assetIds = r.assetIds;
      mustName.push('assetIds');
    }
    if (r.assetType !== null) {
      value.assetType = r.assetType;
      mustName.push('assetType');
    }
    if (r.extra !== null) {
      // defineProperty: `value.__proto__ = x` would set the prototype, not a field.
      Object.defineProperty(value, r.extra[0], {
        value: r.extra[1],
        enumerable: true,
        configurable: true,
        writable: true,
      });
      mustName.push(JSON.stringify(r.extra[0]));
    }
    return { value, mustName };
  });

/** Whether a message looks like a crash: a stack trace, or a JS error name leaking out. */
export function looksLikeCrash(text: string): boolean {
  return (
    /\n\s+at .+[:(]\d+/.test(text) ||
    /\b(TypeError|ReferenceError|RangeError|SyntaxError: Unexpected)\b/.test(text) ||
    /Maximum call stack/.test(text)
  );
}
