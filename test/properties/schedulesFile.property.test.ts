/**
 * Properties of the schedules file (src/schedules/parse.ts parseSchedulesFile) over generated files: a file
 * with any bad entry is refused whole with a SchedulesError whose problems name the entry and each bad
 * field; nothing else is ever thrown, whatever the text; valid files parse into entries whose parts
 * pass the job contract, deduplicated and split by maxAssetsPerCall.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ASSET_TYPES, parseRescanJobData } from '../../src/job';
import { SchedulesError, parseSchedulesFile, type ScheduleEntry } from '../../src/schedules';
import { badAssetIds, badAssetType, badId, goodId, looksLikeCrash, nested } from '../support/propArbitraries';

const MAX = 5;

const goodName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,30}$/);
const goodCron = fc.constantFrom(
  '0 2 * * *',
  '30 1 * * 1-5',
  '0 */6 * * *',
  '0 0 1 * *',
  '15 14 1 * *',
  '0 * * * * *',
  '30 */10 * * * *',
);
const goodZone = fc.constantFrom('UTC', 'Asia/Shanghai', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata');

const goodEntry = fc.record(
  {
    name: goodName,
    cron: goodCron,
    timezone: goodZone,
    policyItemId: goodId,
    assetIds: fc.array(fc.oneof(goodId, fc.integer({ min: 1, max: 9 })), { minLength: 1, maxLength: 30 }),
    assetType: fc.constantFrom(...ASSET_TYPES),
  },
  { requiredKeys: ['name', 'cron', 'policyItemId', 'assetIds'] },
);

const badValue: Record<string, fc.Arbitrary<unknown>> = {
  name: fc.oneof(
    fc.constantFrom('', 'has space', 'a/b', 'x'.repeat(101), 'ü', 'a#1'),
    fc.integer(),
    fc.constant(null),
    fc.array(fc.string(), { minLength: 1, maxLength: 2 }),
  ),
  cron: fc.oneof(
    fc.constantFrom(
      '',
      '* * *',
      '0 2 * *',
      '* * * * * * *',
      '61 * * * *',
      '0 25 * * *',
      '0 0 32 * *',
      '@daily',
      'every day',
      '0 2 * * * *x',
    ),
    fc.integer(),
    fc.constant(null),
    fc.boolean(),
  ),
  timezone: fc.oneof(fc.constantFrom('Mars/Olympus', 'UTC+8', 'asia/shang hai', ''), fc.integer(), fc.constant(null)),
  policyItemId: fc.oneof(
    badId.filter((v) => typeof v !== 'bigint'),
    fc.constant(nested(50)),
  ),
  // Deep nesting is tested on its own below (the yaml package's own stringify overflows on it).
  assetIds: badAssetIds.filter((v) => !Array.isArray(v) || (v.length < 5_000 && depth(v) < 50)),
  assetType: badAssetType,
};
const FIELDS = Object.keys(badValue);

function depth(v: unknown): number {
  let d = 0;
  while (typeof v === 'object' && v !== null) {
    d++;
    v = Array.isArray(v) ? v[0] : Object.values(v)[0];
  }
  return d;
}

interface BadFile {
  text: string;
  /** For each bad entry: its label in the problems, and the fields that must be named. */
  expect: { label: string; fields: string[] }[];
}

const badFile: fc.Arbitrary<BadFile> = fc
  .tuple(
    fc.uniqueArray(goodEntry, { minLength: 1, maxLength: 5, selector: (e) => e.name }),
    fc.array(
      fc.tuple(
        fc.subarray(FIELDS, { minLength: 1, maxLength: 3 }),
        fc.option(
          fc.oneof(
            fc.string({ minLength: 1, maxLength: 10 }),
            fc.constantFrom('__proto__', 'constructor', 'Name', 'assetIDs'),
          ),
          { freq: 3 },
        ),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .chain(([entries, allBreaks]) => {
    const breaks = allBreaks.slice(0, entries.length);
    return fc.tuple(
      fc.constant(entries),
      fc.constant(breaks),
      fc.tuple(
        ...breaks.map(([fields]) => fc.tuple(...fields.map((f) => fc.oneof(badValue[f]!, fc.constant(undefined))))),
      ),
      fc.shuffledSubarray(
        entries.map((_, i) => i),
        { minLength: breaks.length, maxLength: breaks.length },
      ),
    );
  })
  .map(([entries, breaks, values, targets]) => {
    const out: Record<string, unknown>[] = entries.map((e) => ({ ...e }));
    const expected: BadFile['expect'] = [];
    breaks.forEach(([fields, unknown], k) => {
      const i = targets[k]!;
      const e = out[i]!;
      fields.forEach((f, j) => {
        const v = values[k]![j];
        if (v === undefined && f !== 'timezone' && f !== 'assetType') delete e[f];
        else if (v !== undefined) e[f] = v;
        // A missing optional field is fine; anything else set here is bad.
      });
      const named: string[] = fields.filter(
        (f, j) => values[k]![j] !== undefined || (f !== 'timezone' && f !== 'assetType'),
      );
      if (
        unknown !== null &&
        !['name', 'cron', 'timezone', 'policyItemId', 'assetIds', 'assetType'].includes(unknown)
      ) {
        Object.defineProperty(e, unknown, { value: 1, enumerable: true, configurable: true, writable: true });
        named.push(JSON.stringify(unknown));
      }
      const name = e.name;
      const label = typeof name === 'string' && /^[A-Za-z0-9_.-]{1,100}$/.test(name) ? name : `entry #${i + 1}`;
      if (named.length > 0) expected.push({ label, fields: named });
    });
    return { text: stringify({ schedules: out }), expect: expected };
  })
  .filter((f) => f.expect.length > 0);

function schedulesError(fn: () => unknown): SchedulesError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SchedulesError) return err;
    throw new Error(`expected a SchedulesError, got ${(err as Error)?.stack ?? String(err)}`, { cause: err });
  }
  throw new Error('expected a SchedulesError, the file was accepted');
}

test('a file with bad entries is refused whole, each problem naming its entry and field', () => {
  fc.assert(
    fc.property(badFile, (f) => {
      const e = schedulesError(() => parseSchedulesFile(f.text, { maxAssetsPerCall: MAX }));
      for (const p of e.problems) expect(looksLikeCrash(p)).toBe(false);
      for (const { label, fields } of f.expect) {
        const mine = e.problems.filter((p) => p.startsWith(`${label}: `)).join('\n');
        expect(mine).not.toBe('');
        // A name shared by two entries is also reported as a duplicate; a missing name is "name is required".
        for (const field of fields) expect(mine).toContain(field === 'name' ? 'name' : field);
      }
    }),
    { numRuns: 150 },
  );
});

test('any text at all: entries, or a SchedulesError; never a crash', () => {
  const yamlish = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => stringify(v)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => stringify({ schedules: v })),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }).map((l) => stringify({ schedules: l })),
    goodEntry.chain((e) => fc.nat({ max: 200 }).map((n) => stringify({ schedules: [e] }).slice(0, n))),
    fc.constantFrom(
      'schedules:\n  - name: x\n    cron: */5 * * * *\n',
      '- a\n- b',
      'schedules: &a [*a]',
      '{{{{',
      'schedules:\n  - name: a\n    name: b\n',
      '%YAML 9.9\n---\nschedules: []',
      '--- !!binary AAAA',
      'schedules: !!js/function "function(){}"',
    ),
  );
  fc.assert(
    fc.property(yamlish, (text) => {
      try {
        parseSchedulesFile(text, { maxAssetsPerCall: MAX });
      } catch (err) {
        if (!(err instanceof SchedulesError)) throw err;
        expect(err.problems.length).toBeGreaterThan(0);
        for (const p of err.problems) expect(looksLikeCrash(p)).toBe(false);
      }
    }),
    { numRuns: 300 },
  );
});

test('a YAML alias bomb is refused quickly', () => {
  const bomb = [
    'a: &a ["x","x","x","x","x","x","x","x","x"]',
    ...Array.from(
      { length: 8 },
      (_, i) =>
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(',')}]`,
    ),
    'schedules: [*i]',
  ].join('\n');
  const t0 = Date.now();
  const e = schedulesError(() => parseSchedulesFile(bomb, { maxAssetsPerCall: MAX }));
  expect(Date.now() - t0).toBeLessThan(2_000);
  expect(e.problems.join()).toMatch(/alias|YAML/i);
});

test('valid files parse: deduplicated assets, parts of at most maxAssetsPerCall that pass the job contract', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(goodEntry, { minLength: 0, maxLength: 6, selector: (e) => e.name }),
      fc.integer({ min: 1, max: 8 }),
      (entries, max) => {
        const parsed: ScheduleEntry[] = parseSchedulesFile(stringify({ schedules: entries }), {
          maxAssetsPerCall: max,
        });
        expect(parsed.map((p) => p.name)).toEqual(entries.map((e) => e.name));
        parsed.forEach((p, i) => {
          const e = entries[i]!;
          const unique = [...new Set(e.assetIds)];
          expect(p.assetIds).toEqual(unique);
          expect(p.timezone).toBe(e.timezone ?? 'UTC');
          expect(p.parts).toHaveLength(Math.ceil(unique.length / max));
          expect(p.parts.flatMap((part) => part.data.assetIds)).toEqual(unique);
          p.parts.forEach((part, k) => {
            expect(part.id).toBe(p.parts.length === 1 ? e.name : `${e.name}#${k + 1}`);
            expect(parseRescanJobData(part.data)).toEqual(part.data);
            expect(part.data.assetIds.length).toBeLessThanOrEqual(max);
          });
        });
      },
    ),
    { numRuns: 150 },
  );
});

test('deeply nested files are refused with a clear reason, and the process survives', () => {
  const script = `
    const { parseSchedulesFile, SchedulesError } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'dist', 'schedules'))});
    for (const d of [1000, 20000, 100000]) {
      for (const text of ['schedules: ' + '['.repeat(d) + ']'.repeat(d), 'schedules:\\n  - name: a\\n    cron: "0 2 * * *"\\n    policyItemId: 1\\n    assetIds: ' + '['.repeat(d) + '1' + ']'.repeat(d)]) {
        try { parseSchedulesFile(text, { maxAssetsPerCall: 5 }); console.log('accepted'); }
        catch (e) { if (!(e instanceof SchedulesError)) throw e; console.log(e.problems.join(' | ')); }
      }
    }`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
  expect(r.stderr.slice(0, 300)).toBe('');
  expect(r.status).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(6);
  for (const l of lines) {
    expect(l).not.toBe('accepted');
    expect(looksLikeCrash(l)).toBe(false);
  }
});
