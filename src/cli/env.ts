/**
 * Which environment variables each CLI verb reads, for its `--help` (one table; a test checks every
 * name against config.ts, so the help cannot name a variable that does not exist).
 */
import type { Command } from 'commander';

const REDIS = [
  'REDIS_URL',
  'REDIS_TLS_CA_FILE',
  'REDIS_TLS_INSECURE',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_NAME',
  'REDIS_SENTINEL_PASSWORD',
  'REDIS_CLUSTER_NODES',
  'QUEUE_NAME',
];
const PRODUCER = [...REDIS, 'PRODUCER_TIMEOUT_MS'];
const JOBS = ['TCSS_MAX_ASSETS_PER_CALL', 'TCSS_MAX_ATTEMPTS', 'TCSS_BACKOFF_MS'];
const TCSS = [
  'TENCENTCLOUD_SECRET_ID',
  'TENCENTCLOUD_SECRET_KEY',
  'TENCENTCLOUD_SESSION_TOKEN',
  'TENCENTCLOUD_CREDENTIALS',
  'TENCENTCLOUD_ROLE_ARN',
  'TENCENTCLOUD_ROLE_SESSION_NAME',
  'TENCENTCLOUD_STS_ENDPOINT',
  'TCSS_BUDGET_KEY',
  'TCSS_ENDPOINT',
  'TCSS_REGION',
  'TCSS_RATE_LIMIT',
  'TCSS_PACING_MARGIN_MS',
  'TCSS_WINDOW_GUARD_MS',
  'TCSS_MAX_IN_FLIGHT',
  'TCSS_TIMEOUT_MS',
  'TCSS_ADAPTIVE_RATE',
  'TCSS_COALESCE',
  'TCSS_COALESCE_WINDOW_MS',
  'TCSS_WARM_UP',
  ...JOBS,
];
const RECORDS = ['RECORDS_MAX_LEN', 'RECORD_TTL_DAYS'];
const SERVER = [
  'SERVER_HOST',
  'SERVER_PORT',
  'SERVER_USER',
  'SERVER_PASSWORD',
  'SERVER_API_TOKEN',
  'SERVER_AUTH',
  'SERVER_BODY_LIMIT_BYTES',
  'SERVER_LOGIN_MAX_FAILURES',
  'SERVER_LOGIN_WINDOW_SECONDS',
  'DASHBOARD_READ_ONLY',
];
const SIM = [
  'SIM_HOST',
  'SIM_PORT',
  'SIM_RATE_LIMIT',
  'SIM_COUNT_THROTTLED',
  'SIM_ERROR_RATE',
  'SIM_ERROR_CODE',
  'SIM_LATENCY_MS',
  'SIM_HANG_RATE',
  'SIM_BACKGROUND_RPS',
  'SIM_CONTROL_TOKEN',
  'SIM_TEMPORARY_CREDENTIALS_TTL',
];

/** Verb (as typed, `schedules sync` with its space) -> the variables it reads. */
export const VERB_ENV: Record<string, readonly string[]> = {
  enqueue: [...PRODUCER, ...JOBS],
  status: PRODUCER,
  tasks: [...PRODUCER, ...RECORDS],
  start: [...PRODUCER, ...TCSS, 'WORKER_CONCURRENCY', ...RECORDS, ...SERVER, ...SIM, 'HEARTBEAT_FILE', 'LOG_LEVEL'],
  serve: [
    ...PRODUCER,
    ...JOBS,
    ...RECORDS,
    ...SERVER,
    'TENCENTCLOUD_CREDENTIALS',
    'TENCENTCLOUD_SECRET_ID',
    'TENCENTCLOUD_STS_ENDPOINT',
    'TCSS_BUDGET_KEY',
    'TCSS_ENDPOINT',
    'TCSS_RATE_LIMIT',
    'HEARTBEAT_FILE',
    'LOG_LEVEL',
  ],
  'schedules sync': [...PRODUCER, ...JOBS],
  'schedules list': PRODUCER,
  worker: [...REDIS, ...TCSS, 'WORKER_CONCURRENCY', ...RECORDS, 'HEARTBEAT_FILE', 'LOG_LEVEL'],
  // It never reads the Tencent keys: a simulator must not hold real secrets.
  simulator: SIM,
  demo: ['REDIS_URL', 'LOG_LEVEL', ...SIM],
};

/** The help text naming a verb's variables (also read from a `.env` file in the working directory). */
export function envHelp(verb: string): string {
  const names = VERB_ENV[verb] ?? [];
  const lines: string[] = [];
  let line = ' ';
  for (const n of names) {
    if (line.length + n.length + 1 > 78) {
      lines.push(line);
      line = ' ';
    }
    line += ` ${n}`;
  }
  lines.push(line);
  return `\nEnvironment variables (also read from ./.env; see .env.example):\n${lines.join('\n')}\n`;
}

/** A verb's command, with the environment variables it reads in its --help. */
export function verb(parent: Command, name: string, fullName = name): Command {
  return parent.command(name).addHelpText('after', envHelp(fullName));
}
