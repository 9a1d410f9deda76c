/** The typed configuration loadConfig returns (load.ts), section by section. */
import type { CredentialSource, LOG_LEVELS } from './schema';

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
