/**
 * Configuration: the only module that reads process.env (and `.env`).
 *
 * One schema, one defaults table (the zod defaults), one parse, validated at once. A bad value stops
 * start-up with a message naming the variable, what was expected and what was received.
 */
import { readFileSync } from 'node:fs';
import { config as loadDotenv } from 'dotenv';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseDurationMs } from './duration';
import { maskUrlPasswords } from './redact';
import { DEMO_SECRET_ID, DEMO_SECRET_KEY } from './simulator';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const message = `expected a whole number from ${min} to ${max}`;
  // The regex admits only digits, so the number is whole; one message per variable, whatever is wrong.
  return z
    .string()
    .trim()
    .regex(/^-?\d+$/, { message })
    .transform(Number)
    .pipe(z.number().min(min, { message }).max(max, { message }));
};

const num = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/, { message: `expected a number from ${min} to ${max}` })
    .transform(Number)
    .pipe(z.number().min(min, { message: `expected a number from ${min} to ${max}` }).max(max, { message: `expected a number from ${min} to ${max}` }));

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(v), {
    message: 'expected true or false',
  })
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const duration = (minMs: number, maxMs: number) =>
  z
    .string()
    .trim()
    .refine((v) => {
      const ms = parseDurationMs(v);
      return ms !== undefined && ms >= minMs && ms <= maxMs;
    }, { message: `expected a duration from ${minMs / 1000}s to ${maxMs / 1000}s such as 60s, 15m or 2h` })
    .transform((v) => parseDurationMs(v) as number);

/** How the worker gets its keys (see docs/credentials.md); `auto` picks the first that is configured. */
export const CREDENTIAL_SOURCES = ['auto', 'env', 'profile', 'role', 'cvm', 'oidc'] as const;
export type CredentialSource = Exclude<(typeof CREDENTIAL_SOURCES)[number], 'auto'> | 'demo';

const url = (protocols: string[]) =>
  z
    .string()
    .trim()
    .refine(
      (v) => {
        try {
          return protocols.includes(new URL(v).protocol);
        } catch {
          return false;
        }
      },
      { message: `expected a URL starting with ${protocols.map((p) => p + '//').join(' or ')}` },
    );

/** `host:port,host:port`: at least one, each port 1 to 65535. */
const hostPorts = z
  .string()
  .trim()
  .refine((v) => v.split(',').every((hp) => /^[A-Za-z0-9.-]+:\d{1,5}$/.test(hp.trim()) && Number(hp.trim().split(':')[1]) >= 1 && Number(hp.trim().split(':')[1]) <= 65_535), {
    message: 'expected host:port[,host:port...]',
  })
  .transform((v) => v.split(',').map((hp) => ({ host: hp.trim().split(':')[0]!, port: Number(hp.trim().split(':')[1]) })));

/**
 * Every variable the service reads, with its default. Documented one by one in `.env.example`.
 * Empty strings count as unset, so `FOO=` in a .env file falls back to the default.
 */
const envSchema = z.object({
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  // --- REDIS: production set-ups (docs/production-redis.md) ---
  REDIS_TLS_CA_FILE: z.string().trim().min(1).optional(),
  REDIS_TLS_INSECURE: bool.default(false),
  REDIS_SENTINELS: hostPorts.optional(),
  REDIS_SENTINEL_NAME: z.string().trim().regex(/^[A-Za-z0-9_.-]{1,100}$/, { message: 'expected 1 to 100 letters, digits, _ . or -' }).optional(),
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  REDIS_CLUSTER_NODES: hostPorts.optional(),
  TENCENTCLOUD_SECRET_ID: z.string().trim().min(1).optional(),
  TENCENTCLOUD_SECRET_KEY: z.string().trim().min(1).optional(),
  TENCENTCLOUD_SESSION_TOKEN: z.string().trim().min(1).optional(),
  TENCENTCLOUD_CREDENTIALS: z.enum(CREDENTIAL_SOURCES, { message: `expected one of ${CREDENTIAL_SOURCES.join(', ')}` }).default('auto'),
  TENCENTCLOUD_ROLE_ARN: z.string().trim().regex(/^qcs::cam::uin\/\d+:role(Name)?\/[\w+=,.@-]{1,128}$/, { message: 'expected a role ARN such as qcs::cam::uin/100000000001:roleName/tcss-rescan' }).optional(),
  TENCENTCLOUD_ROLE_SESSION_NAME: z.string().trim().regex(/^[\w+=,.@-]{2,128}$/, { message: 'expected 2 to 128 letters, digits or +=,.@-_' }).default('tcss-rescan'),
  TENCENTCLOUD_STS_ENDPOINT: url(['https:', 'http:']).optional(),
  TCSS_BUDGET_KEY: z.string().trim().min(1).max(200).optional(),
  TCSS_ENDPOINT: url(['https:', 'http:']).default('https://tcss.intl.tencentcloudapi.com'),
  TCSS_REGION: z.string().trim().regex(/^[a-z]{2,}(-[a-z0-9]+)+$/, { message: 'expected a region such as ap-guangzhou' }).optional(),
  TCSS_RATE_LIMIT: int(1, 1000).default(20),
  TCSS_PACING_MARGIN_MS: num(0, 1000).default(0),
  TCSS_WINDOW_GUARD_MS: num(0, 1000).default(25),
  TCSS_MAX_IN_FLIGHT: int(1, 10_000).default(40),
  TCSS_MAX_ASSETS_PER_CALL: int(1, 100_000).default(100),
  TCSS_TIMEOUT_MS: int(100, 600_000).default(10_000),
  TCSS_MAX_ATTEMPTS: int(1, 100).default(6),
  TCSS_BACKOFF_MS: int(1, 3_600_000).default(1_000),
  TCSS_ADAPTIVE_RATE: bool.default(true),
  TCSS_COALESCE: bool.default(true),
  TCSS_COALESCE_WINDOW_MS: int(0, 60_000).default(20),
  TCSS_WARM_UP: bool.default(true),
  QUEUE_NAME: z.string().trim().regex(/^[A-Za-z0-9_.-]{1,100}$/, { message: 'expected 1 to 100 letters, digits, _ . or -' }).default('tcss-rescan'),
  WORKER_CONCURRENCY: int(1, 10_000).default(200),
  PRODUCER_TIMEOUT_MS: int(100, 600_000).default(5_000),
  RECORDS_MAX_LEN: int(1_000, 1_000_000_000).default(1_000_000),
  RECORD_TTL_DAYS: int(1, 3650).default(30),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  HEARTBEAT_FILE: z
    .string()
    .trim()
    .refine((v) => v.startsWith('/'), { message: 'expected an absolute file path' })
    .optional(),
  SERVER_HOST: z.string().trim().min(1).default('127.0.0.1'),
  SERVER_PORT: int(0, 65_535).default(3000),
  SERVER_USER: z.string().trim().min(1).max(200).default('admin'),
  SERVER_PASSWORD: z.string().min(12, { message: 'expected at least 12 characters' }).optional(),
  SERVER_API_TOKEN: z.string().min(24, { message: 'expected at least 24 characters' }).optional(),
  SERVER_AUTH: z.enum(['on', 'off'], { message: 'expected on or off' }).default('on'),
  SERVER_BODY_LIMIT_BYTES: int(1_024, 100 * 1024 * 1024).default(1024 * 1024),
  DASHBOARD_READ_ONLY: bool.default(false),
  SERVER_LOGIN_MAX_FAILURES: int(1, 1_000_000).default(10),
  SERVER_LOGIN_WINDOW_SECONDS: int(1, 86_400).default(300),
  SIM_HOST: z.string().trim().min(1).default('127.0.0.1'),
  SIM_PORT: int(0, 65_535).default(4010),
  SIM_RATE_LIMIT: int(1, 100_000).default(20),
  SIM_COUNT_THROTTLED: bool.default(true),
  SIM_CONTROL_TOKEN: z.string().trim().regex(/^[A-Za-z0-9._~-]{16,200}$/, { message: 'expected at least 16 letters, digits or . _ ~ -' }).optional(),
  SIM_TEMPORARY_CREDENTIALS_TTL: duration(1000, 43_200_000).optional(),
  SIM_ERROR_RATE: num(0, 1).default(0),
  SIM_ERROR_CODE: z.string().trim().regex(/^[A-Za-z]+(\.[A-Za-z]+)*$/, { message: 'expected a Tencent error code such as InternalError' }).default('InternalError'),
  SIM_LATENCY_MS: int(0, 600_000).default(0),
  SIM_HANG_RATE: num(0, 1).default(0),
  SIM_BACKGROUND_RPS: num(0, 100_000).default(0),
});

type Env = z.infer<typeof envSchema>;

export interface TcssConfig {
  /** TCSS endpoint URL (`TCSS_ENDPOINT`). */
  endpoint: URL;
  /**
   * The key pair (`TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRET_KEY`, `TENCENTCLOUD_SESSION_TOKEN`);
   * the simulator's demo pair when none is given and the endpoint is on loopback; undefined otherwise
   * (producers do not need credentials: `requireCredentials` is called by what calls the API).
   */
  credentials?: Credentials;
  region?: string;
  /** True when no Tencent credentials were given and the endpoint is the local simulator (demo pair). */
  usingDemoCredentials: boolean;
  /**
   * Where keys come from (`TENCENTCLOUD_CREDENTIALS`, resolved from `auto`): `env` (the variables above),
   * `profile` (~/.tencentcloud/credentials), `role` (STS AssumeRole of `roleArn` with the env keys),
   * `cvm` (the instance's CAM role), `oidc` (TKE workload identity), `demo` (the simulator's pair).
   */
  credentialSource: CredentialSource;
  /** `TENCENTCLOUD_ROLE_ARN` and `TENCENTCLOUD_ROLE_SESSION_NAME`, for `role`. */
  roleArn?: string;
  roleSessionName: string;
  /** STS endpoint (`TENCENTCLOUD_STS_ENDPOINT`); unset: derived from the TCSS endpoint (see tcss/identity.ts). */
  stsEndpoint?: URL;
  /** Overrides the identity the budget is keyed by (`TCSS_BUDGET_KEY`). */
  budgetKey?: string;
  /** The API's limit in requests per second (`TCSS_RATE_LIMIT`). */
  rateLimit: number;
  /** Extra ms on top of the spacing (1000 + guard) / rate between calls (`TCSS_PACING_MARGIN_MS`). */
  pacingMarginMs: number;
  /** The send-time guard a new budget starts with: the ceiling counts over 1000 + guard ms (`TCSS_WINDOW_GUARD_MS`); the controller moves it. */
  windowGuardMs: number;
  /** Most calls in flight (reserved or running) across all workers (`TCSS_MAX_IN_FLIGHT`). */
  maxInFlight: number;
  maxAssetsPerCall: number;
  timeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
  /** Cut the cluster's rate on RequestLimitExceeded and probe back up (`TCSS_ADAPTIVE_RATE`). */
  adaptiveRate: boolean;
  /** Merge jobs waiting at the same moment for the same (policyItemId, assetType) (`TCSS_COALESCE`). */
  coalesce: boolean;
  /** How long a new group waits for company before asking for a slot (`TCSS_COALESCE_WINDOW_MS`). */
  coalesceWindowMs: number;
  /** Open the connection and run the SDK's path once before the first call (`TCSS_WARM_UP`, tcss/warmUp.ts). */
  warmUp: boolean;
}

export interface ServerConfig {
  /** Interface the HTTP server listens on (`SERVER_HOST`, default loopback). */
  host: string;
  port: number;
  /** Basic auth user and password for the dashboard and the API (`SERVER_USER`, `SERVER_PASSWORD`). */
  user: string;
  password?: string;
  /** Bearer token for machines (`SERVER_API_TOKEN`). */
  apiToken?: string;
  /** `SERVER_AUTH=off` turns auth off; allowed only on loopback (checked by requireServerAccess). */
  authEnabled: boolean;
  bodyLimitBytes: number;
  /** The dashboard shows but cannot change (`DASHBOARD_READ_ONLY`). */
  dashboardReadOnly: boolean;
  /** Failed logins per client address and window before it gets 429 (`SERVER_LOGIN_MAX_FAILURES`, default 10). */
  loginMaxFailures: number;
  /** That window, seconds (`SERVER_LOGIN_WINDOW_SECONDS`, default 300). */
  loginWindowSeconds: number;
}

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Where Redis is and how to reach it (src/redisConnection.ts builds every connection from this).
 * `REDIS_URL` always gives the scheme (`rediss:` = TLS), the ACL user and password, and the db; its
 * host and port are used only in `single` mode.
 */
export interface RedisConfig {
  /** single: REDIS_URL; sentinel: REDIS_SENTINELS + REDIS_SENTINEL_NAME; cluster: REDIS_CLUSTER_NODES. */
  mode: 'single' | 'sentinel' | 'cluster';
  host: string;
  port: number;
  /** Database number (URL path); Cluster has only 0. */
  db: number;
  username?: string;
  password?: string;
  /** TLS (`rediss://`). */
  tls: boolean;
  /** PEM contents of `REDIS_TLS_CA_FILE` (the file is read at start, so a bad path stops start-up). */
  ca?: string;
  caFile?: string;
  /** `REDIS_TLS_INSECURE=true`: do not check the server's certificate (logged loudly). Default false. */
  tlsInsecure: boolean;
  sentinels: HostPort[];
  /** The monitored primary's name (`REDIS_SENTINEL_NAME`). */
  sentinelName?: string;
  /** Password of the sentinels themselves, if they have one (`REDIS_SENTINEL_PASSWORD`). */
  sentinelPassword?: string;
  clusterNodes: HostPort[];
}

export interface Credentials {
  secretId: string;
  secretKey: string;
  sessionToken?: string;
}

export interface Config {
  redisUrl: string;
  /** How to reach Redis (TLS, ACL user, Sentinel, Cluster); see src/redisConnection.ts. */
  redis: RedisConfig;
  queueName: string;
  logLevel: (typeof LOG_LEVELS)[number];
  /** Liveness file the worker and the server rewrite while they run (HEARTBEAT_FILE; none by default). */
  heartbeatFile?: string;
  workerConcurrency: number;
  recordsMaxLen: number;
  recordTtlSeconds: number;
  /** Producers (CLI, HTTP API) wait at most this long for Redis at each step, then fail (`PRODUCER_TIMEOUT_MS`). */
  producerTimeoutMs: number;
  tcss: TcssConfig;
  server: ServerConfig;
  simulator: {
    host: string;
    port: number;
    rateLimit: number;
    countThrottled: boolean;
    errorRate: number;
    errorCode: string;
    latencyMs: number;
    hangRate: number;
    backgroundRps: number;
    /** `SIM_CONTROL_TOKEN`; unset: a random one per start. */
    controlToken?: string;
    /** `SIM_TEMPORARY_CREDENTIALS_TTL` in ms; unset: the simulator's default (2 h). */
    temporaryCredentialsTtlMs?: number;
  };
}

/** A configuration problem: names every offending variable with what was expected and received. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

const SECRET_VARS = new Set(['REDIS_SENTINEL_PASSWORD', 'TENCENTCLOUD_SECRET_KEY', 'TENCENTCLOUD_SESSION_TOKEN', 'SERVER_PASSWORD', 'SERVER_API_TOKEN', 'SIM_CONTROL_TOKEN']);

/** A received value as an error message may show it: secrets hidden, passwords in URLs masked. */
function shown(name: string, value: string | undefined): string {
  if (value === undefined) return 'nothing';
  if (SECRET_VARS.has(name)) return '(hidden)';
  return JSON.stringify(maskUrlPasswords(value));
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Parses an environment (process.env by default, after loading `.env` if present) into a Config. */
export function loadConfig(env: NodeJS.ProcessEnv = readProcessEnv()): Config {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') cleaned[key] = v;
  }
  // Every problem at once: the schema's, and the checks across variables (run on the raw values, so
  // they are reported even when another variable is invalid).
  const problems: string[] = [];
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '?');
      problems.push(`${name}: ${issue.message}, got ${shown(name, cleaned[name])}`);
    }
  }
  const haveId = cleaned.TENCENTCLOUD_SECRET_ID !== undefined;
  const haveKey = cleaned.TENCENTCLOUD_SECRET_KEY !== undefined;
  if (haveId !== haveKey) {
    problems.push(
      `${haveId ? 'TENCENTCLOUD_SECRET_KEY' : 'TENCENTCLOUD_SECRET_ID'}: expected it to be set together with ${haveId ? 'TENCENTCLOUD_SECRET_ID' : 'TENCENTCLOUD_SECRET_KEY'}, got nothing`,
    );
  }
  for (const name of ['TCSS_ENDPOINT', 'TENCENTCLOUD_STS_ENDPOINT'] as const) {
    const raw = cleaned[name]?.trim();
    if (raw !== undefined && URL.canParse(raw)) {
      const u = new URL(raw);
      if (u.pathname !== '/' || u.search !== '') problems.push(`${name}: expected a URL without a path or query, got ${shown(name, raw)}`);
      else if (u.username !== '' || u.password !== '') problems.push(`${name}: expected a URL without a user or password (credentials go in TENCENTCLOUD_SECRET_ID/KEY), got ${shown(name, raw)}`);
    }
  }
  const source = cleaned.TENCENTCLOUD_CREDENTIALS?.trim();
  if (source === 'role' && cleaned.TENCENTCLOUD_ROLE_ARN === undefined) {
    problems.push('TENCENTCLOUD_ROLE_ARN: expected a role ARN with TENCENTCLOUD_CREDENTIALS=role, got nothing');
  }
  if (source === 'role' && !haveId) {
    problems.push('TENCENTCLOUD_SECRET_ID: expected the keys that assume the role (TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY) with TENCENTCLOUD_CREDENTIALS=role, got nothing');
  }
  if (source === 'env' && !haveId) {
    problems.push('TENCENTCLOUD_SECRET_ID: expected TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY with TENCENTCLOUD_CREDENTIALS=env, got nothing');
  }
  const redisChecked = parsed.success ? checkRedis(parsed.data, problems) : undefined;
  if (problems.length > 0 || !parsed.success || !redisChecked) throw new ConfigError(problems);
  const e: Env = parsed.data;
  const endpoint = new URL(e.TCSS_ENDPOINT);
  const credentialSource = resolveCredentialSource(e, env, isLoopback(endpoint.hostname));
  const demo = credentialSource === 'demo';

  return {
    redisUrl: e.REDIS_URL,
    redis: redisChecked,
    queueName: e.QUEUE_NAME,
    logLevel: e.LOG_LEVEL,
    ...(e.HEARTBEAT_FILE !== undefined ? { heartbeatFile: e.HEARTBEAT_FILE } : {}),
    workerConcurrency: e.WORKER_CONCURRENCY,
    recordsMaxLen: e.RECORDS_MAX_LEN,
    recordTtlSeconds: e.RECORD_TTL_DAYS * 86_400,
    producerTimeoutMs: e.PRODUCER_TIMEOUT_MS,
    tcss: {
      endpoint,
      ...(e.TENCENTCLOUD_SECRET_ID !== undefined && e.TENCENTCLOUD_SECRET_KEY !== undefined
        ? {
            credentials: {
              secretId: e.TENCENTCLOUD_SECRET_ID,
              secretKey: e.TENCENTCLOUD_SECRET_KEY,
              ...(e.TENCENTCLOUD_SESSION_TOKEN !== undefined ? { sessionToken: e.TENCENTCLOUD_SESSION_TOKEN } : {}),
            },
          }
        : demo
          ? { credentials: { secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY } }
          : {}),
      ...(e.TCSS_REGION !== undefined ? { region: e.TCSS_REGION } : {}),
      usingDemoCredentials: demo,
      credentialSource,
      ...(e.TENCENTCLOUD_ROLE_ARN !== undefined ? { roleArn: e.TENCENTCLOUD_ROLE_ARN } : {}),
      roleSessionName: e.TENCENTCLOUD_ROLE_SESSION_NAME,
      ...(e.TENCENTCLOUD_STS_ENDPOINT !== undefined ? { stsEndpoint: new URL(e.TENCENTCLOUD_STS_ENDPOINT) } : {}),
      ...(e.TCSS_BUDGET_KEY !== undefined ? { budgetKey: e.TCSS_BUDGET_KEY } : {}),
      rateLimit: e.TCSS_RATE_LIMIT,
      pacingMarginMs: e.TCSS_PACING_MARGIN_MS,
      windowGuardMs: e.TCSS_WINDOW_GUARD_MS,
      maxInFlight: e.TCSS_MAX_IN_FLIGHT,
      maxAssetsPerCall: e.TCSS_MAX_ASSETS_PER_CALL,
      timeoutMs: e.TCSS_TIMEOUT_MS,
      maxAttempts: e.TCSS_MAX_ATTEMPTS,
      backoffMs: e.TCSS_BACKOFF_MS,
      adaptiveRate: e.TCSS_ADAPTIVE_RATE,
      coalesce: e.TCSS_COALESCE,
      coalesceWindowMs: e.TCSS_COALESCE_WINDOW_MS,
      warmUp: e.TCSS_WARM_UP,
    },
    server: {
      host: e.SERVER_HOST,
      port: e.SERVER_PORT,
      user: e.SERVER_USER,
      ...(e.SERVER_PASSWORD !== undefined ? { password: e.SERVER_PASSWORD } : {}),
      ...(e.SERVER_API_TOKEN !== undefined ? { apiToken: e.SERVER_API_TOKEN } : {}),
      authEnabled: e.SERVER_AUTH === 'on',
      bodyLimitBytes: e.SERVER_BODY_LIMIT_BYTES,
      dashboardReadOnly: e.DASHBOARD_READ_ONLY,
      loginMaxFailures: e.SERVER_LOGIN_MAX_FAILURES,
      loginWindowSeconds: e.SERVER_LOGIN_WINDOW_SECONDS,
    },
    simulator: {
      host: e.SIM_HOST,
      port: e.SIM_PORT,
      rateLimit: e.SIM_RATE_LIMIT,
      countThrottled: e.SIM_COUNT_THROTTLED,
      errorRate: e.SIM_ERROR_RATE,
      errorCode: e.SIM_ERROR_CODE,
      latencyMs: e.SIM_LATENCY_MS,
      hangRate: e.SIM_HANG_RATE,
      backgroundRps: e.SIM_BACKGROUND_RPS,
      ...(e.SIM_CONTROL_TOKEN !== undefined ? { controlToken: e.SIM_CONTROL_TOKEN } : {}),
      ...(e.SIM_TEMPORARY_CREDENTIALS_TTL !== undefined ? { temporaryCredentialsTtlMs: e.SIM_TEMPORARY_CREDENTIALS_TTL } : {}),
    },
  };
}

/** The REDIS section: the set-up (single, Sentinel, Cluster) and TLS, with problems across variables. */
function checkRedis(e: Env, problems: string[]): RedisConfig | undefined {
  const u = new URL(e.REDIS_URL);
  const tls = u.protocol === 'rediss:';
  const sentinels = e.REDIS_SENTINELS ?? [];
  const clusterNodes = e.REDIS_CLUSTER_NODES ?? [];
  const before = problems.length;
  if (sentinels.length > 0 && clusterNodes.length > 0) {
    problems.push('REDIS_CLUSTER_NODES: expected either REDIS_SENTINELS or REDIS_CLUSTER_NODES, got both');
  }
  if (sentinels.length > 0 && e.REDIS_SENTINEL_NAME === undefined) {
    problems.push('REDIS_SENTINELS: expected REDIS_SENTINEL_NAME to be set too (the name of the primary the sentinels monitor, as in `sentinel monitor <name> ...`), got nothing');
  }
  if (sentinels.length === 0 && e.REDIS_SENTINEL_NAME !== undefined) {
    problems.push('REDIS_SENTINEL_NAME: expected REDIS_SENTINELS (host:port of the sentinels) to be set too, got nothing');
  }
  const dbPath = u.pathname.replace(/^\//, '');
  if (dbPath !== '' && !/^\d{1,2}$/.test(dbPath)) problems.push(`REDIS_URL: expected a database number as the path (e.g. /0), got ${JSON.stringify('/' + dbPath)}`);
  const db = dbPath === '' ? 0 : Number(dbPath);
  if (clusterNodes.length > 0 && db !== 0) problems.push(`REDIS_URL: expected database 0 with REDIS_CLUSTER_NODES (a cluster has only db 0), got ${db}`);
  if (!tls && (e.REDIS_TLS_CA_FILE !== undefined || e.REDIS_TLS_INSECURE)) {
    problems.push(`${e.REDIS_TLS_CA_FILE !== undefined ? 'REDIS_TLS_CA_FILE' : 'REDIS_TLS_INSECURE'}: expected REDIS_URL to start with rediss:// (TLS), got ${shown('REDIS_URL', e.REDIS_URL)}`);
  }
  let ca: string | undefined;
  if (e.REDIS_TLS_CA_FILE !== undefined) {
    try {
      ca = readFileSync(e.REDIS_TLS_CA_FILE, 'utf8');
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) problems.push(`REDIS_TLS_CA_FILE: expected a PEM file with at least one certificate, got ${JSON.stringify(e.REDIS_TLS_CA_FILE)} without one`);
    } catch (err) {
      problems.push(`REDIS_TLS_CA_FILE: expected a readable PEM file, got ${JSON.stringify(e.REDIS_TLS_CA_FILE)} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
  }
  if (problems.length > before) return undefined;
  return {
    mode: clusterNodes.length > 0 ? 'cluster' : sentinels.length > 0 ? 'sentinel' : 'single',
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port === '' ? 6379 : Number(u.port),
    db,
    ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}),
    tls,
    ...(ca !== undefined ? { ca, caFile: e.REDIS_TLS_CA_FILE } : {}),
    tlsInsecure: e.REDIS_TLS_INSECURE,
    sentinels,
    ...(e.REDIS_SENTINEL_NAME !== undefined ? { sentinelName: e.REDIS_SENTINEL_NAME } : {}),
    ...(e.REDIS_SENTINEL_PASSWORD !== undefined ? { sentinelPassword: e.REDIS_SENTINEL_PASSWORD } : {}),
    clusterNodes,
  };
}

/**
 * `auto`: keys in the environment (assuming TENCENTCLOUD_ROLE_ARN when set), then TKE's OIDC variables,
 * then a profile file, then the simulator's demo pair on a loopback endpoint. The CVM role is never
 * guessed (probing the metadata server off CVM would hang): choose it with TENCENTCLOUD_CREDENTIALS=cvm.
 * The SDK's ProfileCredential reads ~/.tencentcloud/credentials, then /etc/tencentcloud/credentials.
 */
function resolveCredentialSource(e: Env, env: NodeJS.ProcessEnv, loopback: boolean): CredentialSource {
  if (e.TENCENTCLOUD_CREDENTIALS !== 'auto') return e.TENCENTCLOUD_CREDENTIALS;
  if (e.TENCENTCLOUD_SECRET_ID !== undefined) return e.TENCENTCLOUD_ROLE_ARN !== undefined ? 'role' : 'env';
  if (env.TKE_ROLE_ARN && env.TKE_PROVIDER_ID && env.TKE_WEB_IDENTITY_TOKEN_FILE) return 'oidc';
  const home = env.HOME ?? homedir();
  if (existsSync(join(home, '.tencentcloud', 'credentials')) || existsSync('/etc/tencentcloud/credentials')) return 'profile';
  return loopback ? 'demo' : 'env';
}

/**
 * The long-lived key pair from the environment, for code that needs one; a ConfigError naming the
 * variables when there is none. Workers use tcss/credentials.ts, which covers every source.
 */
export function requireCredentials(tcss: TcssConfig): Credentials {
  if (tcss.credentials) return tcss.credentials;
  throw new ConfigError([
    `TENCENTCLOUD_SECRET_ID: expected Tencent Cloud credentials (TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY) for ${tcss.endpoint.origin}, got nothing; to run without them, point TCSS_ENDPOINT at the local simulator (e.g. http://127.0.0.1:4010)`,
  ]);
}

/**
 * The server refuses to start without credentials, unless it listens on loopback only and the
 * operator turned auth off explicitly (SERVER_AUTH=off).
 */
export function requireServerAccess(server: ServerConfig): void {
  if (!server.authEnabled) {
    if (!isLoopback(server.host)) {
      throw new ConfigError([`SERVER_AUTH: expected on when SERVER_HOST is not loopback, got "off" with SERVER_HOST=${JSON.stringify(server.host)}`]);
    }
    return;
  }
  if (server.password === undefined && server.apiToken === undefined) {
    throw new ConfigError([
      'SERVER_PASSWORD: expected a password (basic auth, user SERVER_USER) or SERVER_API_TOKEN (bearer) for the dashboard and the API, got nothing; on loopback only, SERVER_AUTH=off turns auth off',
    ]);
  }
}

/**
 * loadConfig on the process environment with some variables given by CLI flags (`--redis-url`,
 * `--queue`): the flag wins over the variable and is validated (and named in errors) as that variable.
 */
export function loadConfigOverriding(overrides: Record<string, string | undefined>): Config {
  const env: NodeJS.ProcessEnv = { ...readProcessEnv() };
  for (const [name, value] of Object.entries(overrides)) if (value !== undefined) env[name] = value;
  return loadConfig(env);
}

let dotenvLoaded = false;
function readProcessEnv(): NodeJS.ProcessEnv {
  if (!dotenvLoaded) {
    // `.env` never overrides what the environment already says.
    loadDotenv({ quiet: true });
    dotenvLoaded = true;
  }
  return process.env;
}

/** The names of every variable loadConfig reads (for docs and the .env.example check in tests). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);
