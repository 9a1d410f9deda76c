/**
 * Loading: the environment (process.env after `.env`, or one given) -> one parse, every problem at
 * once -> the typed Config. The only place that reads process.env.
 */
import { config as loadDotenv } from 'dotenv';
import { crossVariableProblems, isLoopback } from './checks';
import { configuredCredentials, resolveCredentialSource } from './credentials';
import { ConfigError, shown } from './errors';
import { checkRedis } from './redis';
import { envSchema, type CredentialSource, type Env } from './schema';
import type { Config, RedisConfig, ServerConfig, TcssConfig } from './types';

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
  problems.push(...crossVariableProblems(cleaned));
  const redisChecked = parsed.success ? checkRedis(parsed.data, problems) : undefined;
  if (problems.length > 0 || !parsed.success || !redisChecked) throw new ConfigError(problems);
  return toConfig(parsed.data, env, redisChecked);
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

function toConfig(e: Env, env: NodeJS.ProcessEnv, redis: RedisConfig): Config {
  const endpoint = new URL(e.TCSS_ENDPOINT);
  const credentialSource = resolveCredentialSource(e, env, isLoopback(endpoint.hostname));
  return {
    redisUrl: e.REDIS_URL,
    redis,
    queueName: e.QUEUE_NAME,
    logLevel: e.LOG_LEVEL,
    ...(e.HEARTBEAT_FILE !== undefined ? { heartbeatFile: e.HEARTBEAT_FILE } : {}),
    workerConcurrency: e.WORKER_CONCURRENCY,
    recordsMaxLen: e.RECORDS_MAX_LEN,
    recordTtlSeconds: e.RECORD_TTL_DAYS * 86_400,
    producerTimeoutMs: e.PRODUCER_TIMEOUT_MS,
    tcss: tcssConfig(e, endpoint, credentialSource),
    server: serverConfig(e),
    simulator: simulatorConfig(e),
  };
}

function tcssConfig(e: Env, endpoint: URL, credentialSource: CredentialSource): TcssConfig {
  const credentials = configuredCredentials(e, credentialSource);
  return {
    endpoint,
    ...(credentials !== undefined ? { credentials } : {}),
    ...(e.TCSS_REGION !== undefined ? { region: e.TCSS_REGION } : {}),
    usingDemoCredentials: credentialSource === 'demo',
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
  };
}

function serverConfig(e: Env): ServerConfig {
  return {
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
  };
}

function simulatorConfig(e: Env): Config['simulator'] {
  return {
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
    ...(e.SIM_TEMPORARY_CREDENTIALS_TTL !== undefined
      ? { temporaryCredentialsTtlMs: e.SIM_TEMPORARY_CREDENTIALS_TTL }
      : {}),
  };
}
