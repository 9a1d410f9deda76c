#!/usr/bin/env node
/**
 * tcss-rescan: one command, several verbs (enqueue, status, tasks, worker, simulator, demo).
 * Exit status: 0 on success, 1 when anything was refused or failed, 2 for usage errors.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { envHelp } from './cliEnv';
import { ConfigError, loadConfigOverriding, type Config } from './config';
import { parseDurationMs } from './duration';
import { isIdempotencyConflictError } from './idempotency';
import { ValidationError } from './job';
import { createLogger, type Logger } from './logger';
import { MAX_PRIORITY, RescanProducer, validateAll } from './producer';
import { RecordStore } from './records';
import { redactText } from './redact';
import { FailFastConnection, isRedisUnavailableError } from './redisFailFast';
import { DEMO_SECRET_ID, DEMO_SECRET_KEY, type Simulator, type SimulatorOptions } from './simulator';
import { checkRedisSettings } from './redisSettings';
import { STATES, queueStatus } from './status';
import { escapeControls, escapeControlsKeepLines, safeJson } from './terminalText';

/** `--redis-url` and `--queue`, on the verbs that use Redis. */
interface RedisFlags {
  redisUrl?: string;
  queue?: string;
}

/** The configuration, with `--redis-url`/`--queue` (when given) in place of REDIS_URL/QUEUE_NAME. */
function config(flags: RedisFlags = {}): Config {
  return loadConfigOverriding({ REDIS_URL: flags.redisUrl, QUEUE_NAME: flags.queue });
}

function producerFor(cfg: Config): RescanProducer {
  return new RescanProducer({
    redisUrl: cfg.redisUrl,
    redis: cfg.redis,
    queueName: cfg.queueName,
    maxAssetsPerCall: cfg.tcss.maxAssetsPerCall,
    maxAttempts: cfg.tcss.maxAttempts,
    backoffMs: cfg.tcss.backoffMs,
    timeoutMs: cfg.producerTimeoutMs,
  });
}

/** Longest line accepted in an enqueue file, in characters: a line is one rescan. */
export const MAX_LINE_CHARS = 1_048_576;

/** A decimal id as a number (unsafe values stay numbers and are refused by validation); other text as is. */
function idArg(text: string): unknown {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : t;
}

function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    if (!/^\d+$/.test(v.trim()) || Number(v) < 1 || Number(v) > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? 'a positive whole number' : `a whole number from 1 to ${max.toLocaleString('en-US')}`;
      throw new InvalidArgumentError(`${name} must be ${range}, got ${escapeControls(JSON.stringify(v))}`);
    }
    return Number(v);
  };
}

function fraction(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError(`${name} must be a number from 0 to 1, got ${JSON.stringify(v)}`);
    return n;
  };
}

function durationMs(name: string) {
  return (v: string): number => {
    const ms = parseDurationMs(v);
    if (ms === undefined || ms < 1000) throw new InvalidArgumentError(`${name} must be a duration of 1s or more such as 60s or 15m, got ${JSON.stringify(v)}`);
    return ms;
  };
}

function nonNegative(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number from 0 up, got ${JSON.stringify(v)}`);
    return n;
  };
}

/**
 * Reads a JSON Lines file (or stdin for `-`): one rescan object per non-blank line. A UTF-8 byte order
 * mark at the start is skipped (as the YAML parser does for schedules files); a line longer than
 * MAX_LINE_CHARS is refused without being parsed.
 */
export function parseJsonLines(text: string): { items: unknown[]; lines: number[]; problems: string[] } {
  const items: unknown[] = [];
  const lines: number[] = [];
  const problems: string[] = [];
  (text.startsWith('\ufeff') ? text.slice(1) : text).split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    if (line.length > MAX_LINE_CHARS) {
      problems.push(`line ${i + 1}: ${line.length} characters; at most ${MAX_LINE_CHARS} per line`);
      return;
    }
    try {
      items.push(JSON.parse(line));
      lines.push(i + 1);
    } catch (err) {
      problems.push(`line ${i + 1}: not valid JSON (${(err as Error).message})`);
    }
  });
  return { items, lines, problems };
}

/** Problems of requests against the job contract; with `label`, each says which request (`line N: ...`). */
function contractProblems(requests: unknown[], label?: (i: number) => string): string[] {
  try {
    validateAll(requests, label);
    return [];
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    // validateAll labels only when there are several requests; a labelled single one needs it too.
    return label && requests.length === 1 ? err.problems.map((p) => `${label(0)}: ${p}`) : err.problems;
  }
}

function lineOf(problem: string): number {
  return Number(/^line (\d+)/.exec(problem)?.[1] ?? 0);
}

interface Output {
  json: boolean;
}

/**
 * Says why and exits: 1 when something was refused or failed, 2 for usage errors. With --json the
 * error is JSON on stdout (`{"error", "problems", "code"?}`), otherwise text on stderr; either way input
 * echoed back has its control characters escaped, and Redis errors are redacted.
 */
function fail(out: Output, message: string, problems: string[] = [], exitCode = 1, code?: string): never {
  const msg = redactText(message);
  const list = problems.map(redactText);
  if (out.json) {
    process.stdout.write(safeJson({ error: msg, problems: list, ...(code !== undefined ? { code } : {}) }) + '\n');
  } else {
    process.stderr.write(`tcss-rescan: ${escapeControlsKeepLines(msg)}\n${list.map((p) => `  - ${escapeControls(p)}\n`).join('')}`);
  }
  process.exit(exitCode);
}

async function enqueueCommand(
  opts: RedisFlags & { policyItem?: unknown; assets?: string; assetType?: string; file?: string; priority?: number; idempotencyKey?: string; json: boolean },
): Promise<void> {
  const out = { json: opts.json };
  const cfg = config(opts);
  let requests: unknown[];
  if (opts.file !== undefined) {
    if (opts.policyItem !== undefined || opts.assets !== undefined || opts.assetType !== undefined) {
      fail(out, 'use either --file or --policy-item/--assets/--asset-type, not both', [], 2, 'USAGE');
    }
    let text: string;
    try {
      text = readFileSync(opts.file === '-' ? 0 : opts.file, 'utf8');
    } catch (err) {
      fail(out, `cannot read ${opts.file}: ${(err as Error).message}`);
    }
    const parsed = parseJsonLines(text);
    requests = parsed.items;
    const where = (i: number) => `line ${parsed.lines[i]}`;
    // Every bad line at once, JSON and contract problems alike, in line order.
    const problems = [...parsed.problems, ...contractProblems(requests, where)].sort((a, b) => lineOf(a) - lineOf(b));
    if (problems.length > 0) fail(out, `refused ${opts.file}: nothing was enqueued`, problems);
    if (requests.length === 0) fail(out, `refused ${opts.file}: it holds no rescans`);
  } else {
    if (opts.policyItem === undefined || opts.assets === undefined) {
      fail(out, 'give --policy-item and --assets (or --file)', [], 2, 'USAGE');
    }
    const assetIds = opts.assets.split(',').map((s) => idArg(s));
    requests = [{ policyItemId: opts.policyItem, assetIds, ...(opts.assetType !== undefined ? { assetType: opts.assetType } : {}) }];
    const problems = contractProblems(requests);
    if (problems.length > 0) fail(out, 'refused: nothing was enqueued', problems);
  }

  const producer = producerFor(cfg);
  try {
    const res = await producer.enqueueMany(requests, {
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}),
    });
    if (opts.json) {
      process.stdout.write(JSON.stringify({ queue: cfg.queueName, enqueued: res.jobIds.length, jobIds: res.jobIds, batchIds: res.batchIds }) + '\n');
    } else {
      res.jobs.forEach((job, i) => {
        process.stdout.write(
          `enqueued job ${res.jobIds[i]}: policy item ${job.policyItemId}, ${job.assetIds.length} asset(s)${job.assetType ? ` (${job.assetType})` : ''}${job.batchId ? `, batch ${job.batchId}` : ''}\n`,
        );
      });
      process.stdout.write(`${res.jobIds.length} job(s) enqueued on queue ${cfg.queueName}\n`);
    }
  } finally {
    await producer.close();
  }
}

async function statusCommand(opts: RedisFlags & { json: boolean }): Promise<void> {
  const cfg = config(opts);
  const producer = producerFor(cfg);
  const conn = new FailFastConnection(cfg.redis, cfg.producerTimeoutMs);
  const redis = conn.client;
  try {
    await conn.ready('nothing was read');
    await producer.ready();
    const s = await conn.within(queueStatus(producer.queue, redis), 'nothing was read');
    const settings = await conn.within(checkRedisSettings(redis), 'nothing was read');
    if (opts.json) {
      process.stdout.write(JSON.stringify(s.counts) + '\n');
    } else {
      process.stdout.write(
        settings.checked
          ? `redis: maxmemory-policy ${Object.values(settings.nodes).map((n) => n.maxmemoryPolicy).join(',')}, persistence ${settings.persistence}\n`
          : `redis: ${settings.note}\n`,
      );
      for (const p of settings.problems) process.stdout.write(`  WARNING ${p.setting} is ${p.found}: ${p.fix}\n`);
      process.stdout.write(`queue ${s.queue}${s.queuePaused ? ' (PAUSED)' : ''}\n`);
      for (const k of STATES) process.stdout.write(`  ${k.padEnd(12)} ${s.counts[k]}\n`);
      for (const [id, p] of Object.entries(s.pausedWorkers)) {
        process.stdout.write(`  worker ${id} stopped taking jobs: ${p.code} at ${p.at}${p.requestId ? ` (RequestId ${p.requestId})` : ''}\n`);
      }
    }
  } finally {
    await producer.close();
    conn.close();
  }
}

async function tasksCommand(opts: RedisFlags & { policyItem?: number; limit: number; json: boolean }): Promise<void> {
  const cfg = config(opts);
  const conn = new FailFastConnection(cfg.redis, cfg.producerTimeoutMs);
  const redis = conn.client;
  try {
    await conn.ready('nothing was read');
    const store = new RecordStore(redis, { queueName: cfg.queueName, maxLen: cfg.recordsMaxLen, ttlSeconds: cfg.recordTtlSeconds });
    const { records } = await conn.within(store.list({ limit: opts.limit, ...(opts.policyItem !== undefined ? { policyItemId: opts.policyItem } : {}) }), 'nothing was read');
    if (opts.json) {
      for (const r of records) process.stdout.write(JSON.stringify(r) + '\n');
    } else if (records.length === 0) {
      process.stdout.write('no TaskIds recorded yet\n');
    } else {
      process.stdout.write(`${'calledAt'.padEnd(24)} ${'taskId'.padStart(10)}  ${'policyItem'.padStart(10)}  assets  ${'assetType'.padEnd(26)} jobs\n`);
      for (const r of records) {
        process.stdout.write(
          `${r.calledAt.padEnd(24)} ${String(r.taskId).padStart(10)}  ${String(r.policyItemId).padStart(10)}  ${String(r.assetIds.length).padStart(6)}  ${(r.assetType ?? '-').padEnd(26)} ${r.jobIds.join(',')}\n`,
        );
      }
    }
  } finally {
    conn.close();
  }
}

/**
 * Keeps the process up until SIGTERM/SIGINT, then runs `stop` (finish calls in flight) and exits 0.
 * A second signal exits at once: jobs in flight then come back as stalled jobs, nothing is lost.
 */
function stopOnSignal(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now; jobs in flight come back as stalled jobs');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping: no new jobs; finishing calls in flight');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

interface SimulatorFlags {
  port?: number;
  host?: string;
  rateLimit?: number;
  errorRate?: number;
  errorCode?: string;
  latencyMs?: number;
  jitterMs?: number;
  hangRate?: number;
  backgroundRps?: number;
  countThrottled?: boolean;
  lenient?: boolean;
  controlToken?: string;
  temporaryCredentialsTtl?: number;
  missingAssetIds?: number[];
  missingPolicyItemIds?: number[];
  missingCode?: string;
}

/** A comma-separated list of positive whole numbers (ids), for the simulator's missing-resource flags. */
function idList(flag: string): (v: string) => number[] {
  return (v) => {
    const ids = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
    const bad = ids.filter((x) => !/^[1-9]\d*$/.test(x) || !Number.isSafeInteger(Number(x)));
    if (bad.length > 0) throw new InvalidArgumentError(`${flag} expects comma-separated ids (positive whole numbers), got ${JSON.stringify(bad[0])}`);
    return ids.map(Number);
  };
}

/**
 * Simulator options: flags first, then SIM_* variables. It knows only its demo key pair: never the
 * configured Tencent keys (a simulator must not hold real secrets).
 */
function simulatorOptions(cfg: Config, flags: SimulatorFlags = {}): SimulatorOptions {
  const s = cfg.simulator;
  const controlToken = flags.controlToken ?? s.controlToken;
  const ttl = flags.temporaryCredentialsTtl ?? s.temporaryCredentialsTtlMs;
  return {
    host: flags.host ?? s.host,
    port: flags.port ?? s.port,
    rateLimit: flags.rateLimit ?? s.rateLimit,
    errorRate: flags.errorRate ?? s.errorRate,
    errorCode: flags.errorCode ?? s.errorCode,
    latencyMs: flags.latencyMs ?? s.latencyMs,
    ...(flags.jitterMs !== undefined ? { arrivalJitterMs: flags.jitterMs } : {}),
    hangRate: flags.hangRate ?? s.hangRate,
    backgroundRps: flags.backgroundRps ?? s.backgroundRps,
    countThrottled: flags.lenient ? false : (flags.countThrottled ?? s.countThrottled),
    ...(controlToken !== undefined ? { controlToken } : {}),
    ...(ttl !== undefined ? { temporaryCredentialsTtlMs: ttl } : {}),
    ...(flags.missingAssetIds ? { missingAssetIds: flags.missingAssetIds } : {}),
    ...(flags.missingPolicyItemIds ? { missingPolicyItemIds: flags.missingPolicyItemIds } : {}),
    ...(flags.missingCode ? { missingCode: flags.missingCode } : {}),
  };
}

async function workerCommand(opts: RedisFlags & { concurrency?: number }): Promise<void> {
  const cfg = config(opts);
  const logger = createLogger(cfg.logLevel);
  const { RescanWorker } = await import('./worker');
  const worker = await RescanWorker.start({ config: cfg, logger, ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}) });
  stopOnSignal(logger, () => worker.close());
}

async function serveCommand(opts: RedisFlags): Promise<void> {
  const cfg = config(opts);
  const logger = createLogger(cfg.logLevel);
  const { startServer } = await import('./server/run');
  const server = await startServer(cfg, logger);
  stopOnSignal(logger, () => server.close());
}

/**
 * `npm start`: the service on one machine, worker and server in one process. Without Tencent
 * credentials it calls a local simulator.
 */
async function startCommand(opts: RedisFlags): Promise<void> {
  let cfg = config(opts);
  const logger = createLogger(cfg.logLevel);
  const { RescanWorker } = await import('./worker');
  let sim: Simulator | undefined;
  // No keys of any kind (a role, a profile, the CVM role or TKE's identity would be keys): the simulator.
  if (!cfg.tcss.credentials && cfg.tcss.credentialSource === 'env') {
    const { startSimulator, DEMO_SECRET_ID, DEMO_SECRET_KEY } = await import('./simulator');
    sim = await startSimulator(simulatorOptions(cfg));
    logger.warn({ simulator: sim.url }, 'no Tencent credentials (TENCENTCLOUD_SECRET_ID/KEY): calling the local TCSS simulator instead of Tencent Cloud');
    cfg = { ...cfg, tcss: { ...cfg.tcss, endpoint: new URL(sim.url), credentials: { secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY }, usingDemoCredentials: true, credentialSource: 'demo' } };
  }
  const { startServer } = await import('./server/run');
  const { requireServerAccess } = await import('./config');
  requireServerAccess(cfg.server); // refuse before starting anything
  const worker = await RescanWorker.start({ config: cfg, logger });
  const server = await startServer(cfg, logger);
  stopOnSignal(logger, async () => {
    await server.close();
    await worker.close();
    await sim?.close();
  });
}

async function simulatorCommand(flags: SimulatorFlags): Promise<void> {
  const cfg = config();
  const { startSimulator } = await import('./simulator');
  const options = simulatorOptions(cfg, flags);
  const sim = await startSimulator(options);
  process.stdout.write(`TCSS simulator listening on ${sim.url}\n`);
  process.stdout.write(`  point workers at it with TCSS_ENDPOINT=${sim.url} (demo credentials; no TENCENTCLOUD_SECRET_ID needed on loopback)\n`);
  // The demo pair is public (it opens only this simulator); the simulator never holds configured keys.
  process.stdout.write(`  demo credentials for other clients (e.g. the official SDKs): SecretId ${DEMO_SECRET_ID}  SecretKey ${DEMO_SECRET_KEY}\n`);
  process.stdout.write(`  read back what it received: ${sim.url}/_sim/stats and ${sim.url}/_sim/calls, with the header below\n`);
  process.stdout.write(`  control token: Authorization: Bearer ${sim.controlToken}\n`);
  const stop = () => {
    sim.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function schedulesSyncCommand(opts: RedisFlags & { file: string; allowSubMinute: boolean; json: boolean }): Promise<void> {
  const out = { json: opts.json };
  const cfg = config(opts);
  const { parseSchedulesFile, syncSchedules, SchedulesError } = await import('./schedules');
  const { formatSyncReport } = await import('./cli/schedulesFormat');
  let text: string;
  try {
    text = readFileSync(opts.file === '-' ? 0 : opts.file, 'utf8');
  } catch (err) {
    fail(out, `cannot read ${opts.file}: ${(err as Error).message}`);
  }
  let entries;
  try {
    entries = parseSchedulesFile(text, { maxAssetsPerCall: cfg.tcss.maxAssetsPerCall, allowSubMinute: opts.allowSubMinute });
  } catch (err) {
    if (err instanceof SchedulesError) fail(out, `refused ${opts.file}: nothing was changed`, err.problems);
    throw err;
  }
  const producer = producerFor(cfg);
  try {
    await producer.ready('nothing was changed');
    const report = await syncSchedules(producer.queue, entries, producer.jobOptions());
    process.stdout.write(opts.json ? JSON.stringify(report) + '\n' : formatSyncReport(report) + '\n');
  } finally {
    await producer.close();
  }
}

async function schedulesListCommand(opts: RedisFlags & { json: boolean }): Promise<void> {
  const cfg = config(opts);
  const { listSchedules } = await import('./schedules');
  const { formatScheduleList } = await import('./cli/schedulesFormat');
  const producer = producerFor(cfg);
  try {
    await producer.ready();
    const list = await listSchedules(producer.queue);
    process.stdout.write(opts.json ? JSON.stringify(list) + '\n' : formatScheduleList(list) + '\n');
  } finally {
    await producer.close();
  }
}

/** The package's version (package.json sits next to dist/ and src/). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** `--redis-url` and `--queue` on a verb that uses Redis. */
function withRedisFlags(cmd: Command): Command {
  return cmd
    .option('--redis-url <url>', 'Redis URL (overrides REDIS_URL)')
    .option('--queue <name>', 'queue name (overrides QUEUE_NAME)');
}

/** A verb's description, options and the environment variables it reads (in its --help). */
function verb(parent: Command, name: string, fullName = name): Command {
  return parent.command(name).addHelpText('after', envHelp(fullName));
}

/**
 * The program. With `json`, usage errors are JSON on stdout like every other error (and no help is
 * printed after them).
 */
export function buildProgram(opts: { json?: boolean } = {}): Command {
  const json = opts.json === true;
  const program = new Command('tcss-rescan')
    .description('Rate-limited rescans of Tencent Cloud TCSS compliance check items, through a BullMQ queue')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError(!json)
    .configureOutput({ outputError: (str, write) => (json ? undefined : write(escapeControlsKeepLines(str))) })
    .exitOverride((err) => {
      if (err.exitCode !== 0 && json) process.stdout.write(safeJson({ error: err.message.replace(/^error: /, ''), problems: [], code: 'USAGE' }) + '\n');
      process.exit(err.exitCode === 0 ? 0 : 2);
    });

  withRedisFlags(verb(program, 'enqueue'))
    .description('enqueue rescans: one from flags, or many from a JSON Lines file (all or nothing)')
    .option('--policy-item <id>', 'CustomerPolicyItemId of the check item', idArg)
    .option('--assets <ids>', 'comma-separated asset ids')
    .option('--asset-type <type>', 'ASSET_CONTAINER, ASSET_IMAGE, ASSET_HOST, ASSET_K8S, ASSET_CONTAINERD or ASSET_CONTAINERD_CONTAINER')
    .option('--file <path>', `JSON Lines file of rescan objects, one per line, at most ${MAX_LINE_CHARS} characters each ("-" reads stdin)`)
    .option('--priority <n>', `BullMQ priority, 1 (most urgent) to ${MAX_PRIORITY.toLocaleString('en-US')}`, positiveInt('--priority', MAX_PRIORITY))
    .option('--idempotency-key <key>', 'retrying with the same key within 24 h returns the same job ids and enqueues nothing new')
    .option('--json', 'machine-readable output (errors too, on stdout)', false)
    .action(enqueueCommand);

  withRedisFlags(verb(program, 'status'))
    .description('job counts per state')
    .option('--json', 'print {"waiting":..,"active":..,"delayed":..,"prioritized":..,"completed":..,"failed":..,"paused":..}', false)
    .action(statusCommand);

  withRedisFlags(verb(program, 'tasks'))
    .description('recorded TaskIds, newest first')
    .option('--policy-item <id>', 'only this check item', positiveInt('--policy-item'))
    .option('--limit <n>', 'most records to print', positiveInt('--limit'), 50)
    .option('--json', 'one JSON object per line', false)
    .action(tasksCommand);

  withRedisFlags(verb(program, 'start'))
    .description('run the service on this machine: worker + server in one process (and, without Tencent credentials, a local simulator)')
    .action(startCommand);

  withRedisFlags(verb(program, 'serve'))
    .description('the HTTP server: dashboard at /dashboard, API under /v1, /metrics, /healthz, /readyz')
    .action(serveCommand);

  const schedules = program.command('schedules').description('scheduled (e.g. nightly) rescans from a YAML file');
  withRedisFlags(verb(schedules, 'sync', 'schedules sync'))
    .description("make the queue's schedules match the file exactly (add, update, remove); a bad file changes nothing")
    .requiredOption('--file <path>', 'schedules YAML file (see examples/schedules.yaml; "-" reads stdin)')
    .option('--allow-sub-minute', 'accept patterns that fire more than once a minute (refused by default)', false)
    .option('--json', 'print {"added","updated","removed","unchanged"}', false)
    .action(schedulesSyncCommand);
  withRedisFlags(verb(schedules, 'list', 'schedules list'))
    .description('each schedule with its next run time')
    .option('--json', 'machine-readable output', false)
    .action(schedulesListCommand);

  withRedisFlags(verb(program, 'worker'))
    .description('process rescans through the shared 20 req/s budget (SIGTERM/SIGINT: finish calls in flight, exit 0)')
    .option('--concurrency <n>', 'jobs in progress at once in this process (default WORKER_CONCURRENCY)', positiveInt('--concurrency'))
    .action(workerCommand);

  verb(program, 'simulator')
    .description('run the TCSS simulator (stand-in for the real endpoint)')
    .option('--port <n>', 'port (default SIM_PORT, 4010; 0 picks a free one)', (v) => (v === '0' ? 0 : positiveInt('--port')(v)))
    .option('--host <host>', 'interface to listen on (default SIM_HOST, 127.0.0.1)')
    .option('--rate-limit <n>', 'requests per second per SecretId and action (default 20)', positiveInt('--rate-limit'))
    .option('--error-rate <f>', 'fraction of calls answered with --error-code', fraction('--error-rate'))
    .option('--error-code <code>', 'error code for --error-rate (default InternalError)')
    .option('--latency-ms <ms>', 'extra latency per answer', nonNegative('--latency-ms'))
    .option('--jitter-ms <ms>', "delay each request's arrival (when the rate limit counts it) by a random 0 to this many ms, as a real network does", nonNegative('--jitter-ms'))
    .option('--hang-rate <f>', 'fraction of calls never answered', fraction('--hang-rate'))
    .option('--background-rps <n>', 'another consumer of the same key spending this many req/s', nonNegative('--background-rps'))
    .addOption(new Option('--count-throttled', 'refused calls count toward the window too (the default)'))
    .addOption(new Option('--lenient', 'refused calls do not count toward the window (SIM_COUNT_THROTTLED=false)'))
    .option('--control-token <token>', 'bearer token for /_sim/* (default SIM_CONTROL_TOKEN, else a random one, printed)')
    .option('--temporary-credentials-ttl <duration>', 'lifetime of AssumeRole keys, e.g. 60s, 15m (default 2h)', durationMs('--temporary-credentials-ttl'))
    .option('--missing-asset-ids <ids>', 'asset ids that do not exist (comma-separated): calls naming one are refused whole', idList('--missing-asset-ids'))
    .option('--missing-policy-item-ids <ids>', 'check items that do not exist (comma-separated): calls naming one are refused', idList('--missing-policy-item-ids'))
    .option('--missing-code <code>', 'error code for calls naming a missing asset or check item (default InvalidParameterValue)')
    .action(simulatorCommand);

  verb(program, 'demo')
    .description('simulator + worker + a sample workload, end to end on this machine')
    .option('--jobs <n>', 'sample rescans to enqueue', positiveInt('--jobs'), 200)
    .option('--keep-running', 'keep the dashboard up after the summary, until Ctrl-C', false)
    .action(async (opts: { jobs: number; keepRunning: boolean }) => {
      const { runDemo } = await import('./demo');
      await runDemo({ jobs: opts.jobs, keepRunning: opts.keepRunning });
      process.exit(0);
    });

  return program;
}

/**
 * Errors that reach the top: what went wrong in one redacted line (no stack, no command arguments),
 * as JSON on stdout with --json. Configuration problems exit 2 (usage), everything else 1.
 */
function reportError(err: unknown, json: boolean): never {
  const out = { json };
  if (err instanceof ConfigError) fail(out, 'invalid configuration', err.problems, 2, err.code);
  if (err instanceof ValidationError) fail(out, 'refused: nothing was enqueued', err.problems, 1, 'INVALID_REQUEST');
  if (isRedisUnavailableError(err)) fail(out, err.message, [], 1, err.code);
  if (isIdempotencyConflictError(err)) fail(out, err.message, [], 1, err.code);
  // Unexpected: the stack helps a bug report (redacted; ioredis's command arguments are not in it).
  const text = err instanceof Error ? (json ? err.message : (err.stack ?? err.message)) : String(err);
  fail(out, text, [], 1);
}

export async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  // Last resort for errors nobody awaited: Node would print them with util.inspect, enumerable
  // properties (ioredis's command arguments) included.
  process.on('uncaughtException', (err) => reportError(err, json));
  process.on('unhandledRejection', (err) => reportError(err, json));
  try {
    await buildProgram({ json }).parseAsync(argv);
  } catch (err) {
    reportError(err, json);
  }
}

if (require.main === module) {
  void main(process.argv);
}
