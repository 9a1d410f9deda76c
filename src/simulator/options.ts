/**
 * Simulator options: one type (every field documented with its default), one defaults object, one
 * merge + validation. The faults subset can be changed at run time (`setFaults`, `POST /_sim/faults`).
 */
import { z } from 'zod';

import { DEMO_SECRET_ID, DEMO_SECRET_KEY } from '../demoKeys';
import { ProblemsError, quoteValue, formatPath } from '../problems';

/** The demo key pair lives in the leaf module demoKeys.ts (config loads it without loading the simulator). */
export { DEMO_SECRET_ID, DEMO_SECRET_KEY };
/** The root account (owner UIN) of every simulated key, and the CAM sub-account the demo pair belongs to. */
export const SIM_OWNER_UIN = '100000000001';
export const DEMO_SUB_ACCOUNT_UIN = '100000000011';

export interface SimulatorCredential {
  secretId: string;
  secretKey: string;
  /**
   * The CAM sub-account (UIN) the key belongs to. Keys with the same UIN share one rate-limit window
   * per action, as Tencent counts per sub-account, not per key. Default: a UIN of its own, derived from
   * the SecretId.
   */
  uin?: string;
}

export interface SimulatorOptions {
  /** Interface to listen on. Default '127.0.0.1' (loopback only). */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Accepted key pairs. Default one demo pair, `DEMO_SECRET_ID` / `DEMO_SECRET_KEY`. */
  credentials?: SimulatorCredential[];
  /** Requests per second allowed per (sub-account, action): every SecretId of one sub-account counts together, as Tencent counts, sliding 1 s window by arrival. Default 20. */
  rateLimit?: number;
  /**
   * Whether throttled (refused) requests also count toward the window, as the real API's message
   * suggests ("request times equals to `21`"). Default true; false is the lenient mode.
   */
  countThrottled?: boolean;
  /** Fraction (0..1) of requests that pass auth and the rate limit answered with `errorCode`. Default 0. */
  errorRate?: number;
  /** Error code used by `errorRate`. Default 'InternalError'. */
  errorCode?: string;
  /** Extra delay before every API answer, in ms. Default 0. */
  latencyMs?: number;
  /** Up to this many more ms, uniformly random, on top of `latencyMs`. Default 0. */
  latencyJitterMs?: number;
  /**
   * Network jitter on the way in: each API request's arrival (the moment the rate limit counts it) is
   * delayed by a uniformly random 0 to this many ms, so calls sent evenly arrive unevenly, as over a
   * real network. Default 0.
   */
  arrivalJitterMs?: number;
  /**
   * Fraction (0..1) of API requests never answered: the request is processed and logged (a TaskId may
   * be issued, as when a response is lost), the socket stays open until the client gives up or
   * `close()`. Default 0.
   */
  hangRate?: number;
  /**
   * Another consumer of the same keys: this many simulated arrivals per second, evenly spaced, go
   * through the window of every configured SecretId for ScanComplianceAssetsByPolicyItem. They are
   * limited and counted like real arrivals, are not in `calls()`, and are counted in `stats()`. Default 0.
   */
  backgroundRps?: number;
  /**
   * CustomerPolicyItemId (decimal string) → error code answered for it, after auth and the rate
   * limit, e.g. `{ "404": "ResourceNotFound" }`. Default {}.
   */
  forcedErrors?: Record<string, string>;
  /** Destroy every API request's socket at once, as if the API were down (`/_sim/*` still answers). Default false. */
  unreachable?: boolean;
  /** Added to the server's clock when checking X-TC-Timestamp (a client clock that is off). Default 0. */
  clockOffsetMs?: number;
  /** SecretIds answered with AuthFailure.SecretIdNotFound (revoked keys). Default []. */
  revokedSecretIds?: string[];
  /**
   * Lifetime of the temporary keys `AssumeRole` hands out, in ms (its DurationSeconds is ignored, so
   * tests can make keys expire fast). Default 7 200 000 (2 h).
   */
  temporaryCredentialsTtlMs?: number;
  /**
   * Bearer token required by `/_sim/*` (`Authorization: Bearer <token>`). Default: a random one made at
   * start (read it from `sim.controlToken`; the CLI prints it).
   */
  controlToken?: string;
  /**
   * Host names served besides loopback ones when bound to loopback (a test that resolves a Tencent
   * host name to 127.0.0.1). Bound elsewhere, every Host is served. Default [].
   */
  allowedHosts?: string[];
  /** Most API calls kept for `calls()` and `stats()` (oldest dropped first). Default 100 000. */
  maxCalls?: number;
  /** First TaskId; later ones follow sequentially, unique per simulator instance. Default 1001. */
  firstTaskId?: number;
  /** Largest accepted body in bytes; larger ones get RequestSizeLimitExceeded. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Asset ids that do not exist: a call naming one is refused whole with `missingCode`. Default []. */
  missingAssetIds?: number[];
  /** CustomerPolicyItemIds that do not exist: a call naming one is refused with `missingCode`. Default []. */
  missingPolicyItemIds?: number[];
  /** Code for calls naming a missing asset or check item (missingResources.ts). Default 'InvalidParameterValue'. */
  missingCode?: string;
}

export type ResolvedSimulatorOptions = Required<SimulatorOptions>;

/** The options that may change while the simulator runs. */
export const FAULT_KEYS = [
  'credentials',
  'rateLimit',
  'countThrottled',
  'errorRate',
  'errorCode',
  'latencyMs',
  'latencyJitterMs',
  'arrivalJitterMs',
  'hangRate',
  'backgroundRps',
  'forcedErrors',
  'unreachable',
  'clockOffsetMs',
  'revokedSecretIds',
  'temporaryCredentialsTtlMs',
  'missingAssetIds',
  'missingPolicyItemIds',
  'missingCode',
] as const;

export type SimulatorFaults = Pick<SimulatorOptions, (typeof FAULT_KEYS)[number]>;

export const defaultSimulatorOptions: Readonly<ResolvedSimulatorOptions> = Object.freeze({
  host: '127.0.0.1',
  port: 0,
  credentials: [{ secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY, uin: DEMO_SUB_ACCOUNT_UIN }],
  rateLimit: 20,
  countThrottled: true,
  errorRate: 0,
  errorCode: 'InternalError',
  latencyMs: 0,
  latencyJitterMs: 0,
  arrivalJitterMs: 0,
  hangRate: 0,
  backgroundRps: 0,
  forcedErrors: {},
  unreachable: false,
  clockOffsetMs: 0,
  revokedSecretIds: [],
  temporaryCredentialsTtlMs: 7_200_000,
  controlToken: '',
  allowedHosts: [],
  maxCalls: 100_000,
  firstTaskId: 1001,
  maxBodyBytes: 1024 * 1024,
  missingAssetIds: [],
  missingPolicyItemIds: [],
  missingCode: 'InvalidParameterValue',
});

/** Error messages name the option, what was expected and what was received. */
export class SimulatorOptionsError extends ProblemsError {
  override readonly name = 'SimulatorOptionsError';
  readonly code = 'SIMULATOR_OPTIONS_INVALID';
  constructor(problems: string[]) {
    super(problems, `Invalid ${problems.join('; ')}`);
  }
}

const expected = (what: string) => ({ error: `expected ${what}` });
const ERROR_CODE = /^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)*$/;
const errorCode = z.string(expected('a Tencent error code such as `InternalError`')).regex(ERROR_CODE);
const fraction = z.number(expected('a number from 0 to 1')).min(0).max(1);
const nonNegativeMs = z.number(expected('a number of ms from 0 up')).min(0).max(600_000);

const shape = {
  host: z.string(expected('a host name or IP address')).min(1),
  port: z.number(expected('an integer port from 0 to 65535')).int().min(0).max(65535),
  credentials: z
    .array(
      z.strictObject(
        {
          secretId: z.string(expected('a non-empty string')).min(1),
          secretKey: z.string(expected('a non-empty string')).min(1),
          uin: z
            .string()
            .regex(/^[1-9]\d{4,19}$/, { error: 'expected a UIN (digits)' })
            .optional(),
        },
        expected('`{secretId, secretKey, uin?}`'),
      ),
      expected('an array of `{secretId, secretKey, uin?}`'),
    )
    .refine((creds) => new Set(creds.map((c) => c.secretId)).size === creds.length, {
      error: 'expected distinct SecretIds',
    }),
  rateLimit: z.number(expected('an integer from 1 up')).int().min(1),
  countThrottled: z.boolean(expected('a boolean')),
  errorRate: fraction,
  errorCode,
  latencyMs: nonNegativeMs,
  latencyJitterMs: nonNegativeMs,
  arrivalJitterMs: nonNegativeMs,
  hangRate: fraction,
  backgroundRps: z.number(expected('a number from 0 to 10000')).min(0).max(10_000),
  forcedErrors: z.record(
    z.string().regex(/^[1-9]\d*$/, { error: 'expected CustomerPolicyItemId keys (positive decimal integers)' }),
    errorCode,
    expected('an object of CustomerPolicyItemId → error code'),
  ),
  unreachable: z.boolean(expected('a boolean')),
  clockOffsetMs: z.number(expected('a finite number of ms')),
  revokedSecretIds: z.array(z.string(expected('a string')), expected('an array of SecretIds')),
  temporaryCredentialsTtlMs: z.number(expected('a number of ms from 1000 up')).int().min(1000).max(43_200_000),
  controlToken: z.union([z.literal(''), z.string().regex(/^[A-Za-z0-9._~-]{16,200}$/)], {
    error: 'expected at least 16 characters of letters, digits, . _ ~ -',
  }),
  allowedHosts: z.array(
    z.string().regex(/^[a-z0-9.-]{1,253}$/i, { error: 'expected a host name' }),
    expected('an array of host names'),
  ),
  maxCalls: z.number(expected('an integer from 1 up')).int().min(1).max(10_000_000),
  firstTaskId: z.number(expected('a positive safe integer')).int().min(1).max(Number.MAX_SAFE_INTEGER),
  maxBodyBytes: z.number(expected('an integer number of bytes from 1 up')).int().min(1),
  missingAssetIds: z.array(
    z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    expected('an array of asset ids (positive safe integers)'),
  ),
  missingPolicyItemIds: z.array(
    z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    expected('an array of CustomerPolicyItemIds (positive safe integers)'),
  ),
  missingCode: errorCode,
} satisfies Record<keyof SimulatorOptions, z.ZodType>;

const optionsSchema = z.strictObject(shape, expected('an options object')).partial();
const faultsSchema = z
  .strictObject(
    Object.fromEntries(FAULT_KEYS.map((k) => [k, shape[k]])) as Pick<typeof shape, (typeof FAULT_KEYS)[number]>,
    expected('an object of faults'),
  )
  .partial();

function describeValue(path: readonly PropertyKey[], value: unknown): string {
  if (path[path.length - 1] === 'secretKey') return '(a secret key, not shown)';
  if (path[path.length - 1] === 'controlToken') return '(a token, not shown)';
  if (value === undefined) return 'undefined';
  return quoteValue(value, 120);
}

function parseOrThrow<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `unknown ${what} \`${formatPath([...issue.path, k])}\``).join('; ');
    }
    const name = issue.path.length > 0 ? ` \`${formatPath(issue.path)}\`` : '';
    return `${what}${name}: ${issue.message}, got ${describeValue(issue.path, issue.input)}`;
  });
  throw new SimulatorOptionsError(problems);
}

/** Defaults, then the caller's options, validated at once. Throws SimulatorOptionsError. */
export function resolveSimulatorOptions(options: SimulatorOptions = {}): ResolvedSimulatorOptions {
  const given = parseOrThrow(optionsSchema, options, 'simulator option');
  const defined = withoutUndefined(given);
  return { ...defaultSimulatorOptions, ...defined };
}

/** Validates a partial set of faults (from code or from `POST /_sim/faults`). Throws SimulatorOptionsError. */
export function parseSimulatorFaults(faults: unknown): SimulatorFaults {
  const given = parseOrThrow(faultsSchema, faults, 'simulator fault');
  return withoutUndefined(given);
}

/** `o` without its undefined fields, so that spreading it over defaults keeps the defaults. */
function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
