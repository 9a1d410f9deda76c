/**
 * Properties of the configuration (src/config/ loadConfig) over generated environments: any value for
 * any variable either loads or is refused with a ConfigError whose every problem starts with the
 * variable's name; nothing else is thrown; secret values never appear in a message; numbers out of
 * range, fractional, beyond 2^53 or not numbers at all are refused; valid values load as numbers.
 */
import fc from 'fast-check';
import { CONFIG_VARIABLES, ConfigError, loadConfig, type Config } from '../../src/config';
import { looksLikeCrash } from '../support/propArbitraries';

/** Whole-number variables and their documented ranges (docs/configuration.md). */
const INTS: Record<string, [number, number]> = {
  TCSS_RATE_LIMIT: [1, 1000],
  TCSS_MAX_IN_FLIGHT: [1, 10_000],
  TCSS_MAX_ASSETS_PER_CALL: [1, 100_000],
  TCSS_TIMEOUT_MS: [100, 600_000],
  TCSS_MAX_ATTEMPTS: [1, 100],
  TCSS_BACKOFF_MS: [1, 3_600_000],
  WORKER_CONCURRENCY: [1, 10_000],
  RECORDS_MAX_LEN: [1_000, 1_000_000_000],
  RECORD_TTL_DAYS: [1, 3650],
  SERVER_PORT: [0, 65_535],
  SIM_PORT: [0, 65_535],
};
/** Where each whole-number variable lands in the Config. */
const READ: Record<string, (c: Config) => number> = {
  TCSS_RATE_LIMIT: (c) => c.tcss.rateLimit,
  TCSS_MAX_IN_FLIGHT: (c) => c.tcss.maxInFlight,
  TCSS_MAX_ASSETS_PER_CALL: (c) => c.tcss.maxAssetsPerCall,
  TCSS_TIMEOUT_MS: (c) => c.tcss.timeoutMs,
  TCSS_MAX_ATTEMPTS: (c) => c.tcss.maxAttempts,
  TCSS_BACKOFF_MS: (c) => c.tcss.backoffMs,
  WORKER_CONCURRENCY: (c) => c.workerConcurrency,
  RECORDS_MAX_LEN: (c) => c.recordsMaxLen,
  RECORD_TTL_DAYS: (c) => c.recordTtlSeconds / 86_400,
  SERVER_PORT: (c) => c.server.port,
  SIM_PORT: (c) => c.simulator.port,
};
const NUMS = ['TCSS_PACING_MARGIN_MS', 'TCSS_WINDOW_GUARD_MS', 'SIM_ERROR_RATE', 'SIM_HANG_RATE', 'SIM_BACKGROUND_RPS'];
const BOOLS = ['TCSS_ADAPTIVE_RATE', 'TCSS_COALESCE', 'DASHBOARD_READ_ONLY', 'SIM_COUNT_THROTTLED'];
const SECRETS = ['TENCENTCLOUD_SECRET_KEY', 'TENCENTCLOUD_SESSION_TOKEN', 'SERVER_PASSWORD', 'SERVER_API_TOKEN'];

function refusal(env: NodeJS.ProcessEnv): ConfigError | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw new Error(`expected a ConfigError, got ${(err as Error)?.stack ?? String(err)}`, { cause: err });
  }
}

/** Text that is not a whole number, or one out of range / beyond 2^53. */
const notAnInt = fc.oneof(
  fc.constantFrom(
    '1.5',
    '1e3',
    '0x10',
    '1_000',
    '+',
    '-',
    'abc',
    'NaN',
    'Infinity',
    '١٢',
    '9007199254740993',
    '99999999999999999999999',
    '1 2',
    '--1',
    '12abc',
  ),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((d) => !Number.isInteger(d))
    .map(String),
  fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s.trim() !== '' && !/^\s*-?\d+\s*$/.test(s)),
);

test('any value for any variable: loads, or a ConfigError naming that variable; never a crash', () => {
  const value = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    notAnInt,
    fc.integer().map(String),
    fc.constantFrom('true', 'off', 'redis://x', 'https://tcss.tencentcloudapi.com/x', 'ap-guangzhou'),
  );
  fc.assert(
    fc.property(fc.constantFrom(...CONFIG_VARIABLES), value, (name, v) => {
      const e = refusal({ [name]: v });
      if (!e) return;
      expect(e.problems.length).toBeGreaterThan(0);
      for (const p of e.problems) {
        // A lone SECRET_ID or SECRET_KEY names the missing partner.
        const partner =
          name === 'TENCENTCLOUD_SECRET_ID'
            ? 'TENCENTCLOUD_SECRET_KEY'
            : name === 'TENCENTCLOUD_SECRET_KEY'
              ? 'TENCENTCLOUD_SECRET_ID'
              : name;
        expect([name, partner].some((n) => p.startsWith(`${n}: `))).toBe(true);
        expect(looksLikeCrash(p)).toBe(false);
      }
    }),
    { numRuns: 500 },
  );
});

test('numbers that are fractional, out of range, beyond 2^53 or not numbers are refused, naming the variable and the value', () => {
  const outOfRange = fc.constantFrom(...Object.keys(INTS)).chain((name) => {
    const [min, max] = INTS[name]!;
    return fc.tuple(
      fc.constant(name),
      fc
        .oneof(
          fc.integer({ max: min - 1 }),
          fc.integer({ min: max + 1 }),
          fc.constantFrom(min - 1, max + 1, 2 ** 53, 2 ** 53 + 2),
        )
        .map(String),
    );
  });
  const garbage = fc.tuple(fc.constantFrom(...Object.keys(INTS)), notAnInt);
  fc.assert(
    fc.property(
      fc.oneof(outOfRange, garbage),
      fc.option(fc.tuple(fc.constantFrom(...NUMS), fc.constantFrom('-1', '1e3', 'x', '2000000')), { freq: 3 }),
      ([name, v], other) => {
        const env: NodeJS.ProcessEnv = { [name]: v, ...(other ? { [other[0]]: other[1] } : {}) };
        const e = refusal(env);
        expect(e).toBeDefined();
        const mine = e!.problems.filter((p) => p.startsWith(`${name}: `));
        expect(mine.length).toBeGreaterThanOrEqual(1); // exactly one: see the test below
        for (const p of mine) expect(p).toContain(JSON.stringify(v));
        expect(mine.some((p) => /expected a whole number from/.test(p))).toBe(true);
        // Every bad variable is reported, not just the first.
        if (other) expect(e!.problems.some((p) => p.startsWith(`${other[0]}: `))).toBe(true);
      },
    ),
    { numRuns: 300 },
  );
});

test('a whole number beyond 2^53 is one problem, in the same words as any other out-of-range value', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...Object.keys(INTS)),
      fc.constantFrom('9007199254740992', '9007199254740993', '99999999999999999999999', '-9007199254740993'),
      (name, v) => {
        const [min, max] = INTS[name]!;
        expect(refusal({ [name]: v })!.problems).toEqual([
          `${name}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`,
        ]);
      },
    ),
    { numRuns: 20 },
  );
});

test('booleans other than true/false/1/0/yes/no/on/off are refused', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...BOOLS),
      fc
        .string({ minLength: 1, maxLength: 8 })
        .filter(
          (s) =>
            s.trim() !== '' && !['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(s.trim().toLowerCase()),
        ),
      (name, v) => {
        expect(refusal({ [name]: v })!.problems).toEqual([
          expect.stringMatching(new RegExp(`^${name}: expected true or false`)),
        ]);
      },
    ),
    { numRuns: 100 },
  );
});

test('secret values are never echoed in a refusal', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...SECRETS),
      fc.string({ minLength: 1, maxLength: 6 }).map((s) => `Zq7%${s}`),
      (name, secret) => {
        // Too short for the server's password / token; a lone key or token. Never shown either way.
        const env = { [name]: secret, SERVER_PASSWORD: name === 'SERVER_PASSWORD' ? secret : undefined };
        const e = refusal(env);
        if (e) expect(e.message).not.toContain(secret);
      },
    ),
    { numRuns: 100 },
  );
});

test('valid whole numbers load as numbers, whatever the surrounding blanks or leading zeros', () => {
  fc.assert(
    fc.property(
      fc
        .constantFrom(...Object.keys(INTS))
        .chain((name) => fc.tuple(fc.constant(name), fc.integer({ min: INTS[name]![0], max: INTS[name]![1] }))),
      fc.constantFrom('', ' ', '\t', '0', '00'),
      ([name, n], pad) => {
        const text = pad.trim() === '' ? `${pad}${n}${pad}` : `${pad}${n}`;
        expect(READ[name]!(loadConfig({ [name]: text }))).toBe(n);
      },
    ),
    { numRuns: 200 },
  );
});
