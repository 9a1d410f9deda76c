#!/usr/bin/env node
/**
 * tcss-rescan: one command, several verbs (enqueue, status, tasks, worker, simulator, demo).
 * Exit status: 0 on success, 1 when anything was refused or failed, 2 for usage errors.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from './config';
import { ValidationError } from './job';
import { createLogger, type Logger } from './logger';
import { RescanProducer, validateAll } from './producer';
import { RecordStore } from './records';
import { createRedis } from './redisConnection';
import { checkRedisSettings } from './redisSettings';
import type { Simulator, SimulatorOptions } from './simulator';
import { STATES, queueStatus } from './status';

function config(): Config {
  return loadConfig();
}

function producerFor(cfg: Config): RescanProducer {
  return new RescanProducer({
    redisUrl: cfg.redisUrl,
    redis: cfg.redis,
    queueName: cfg.queueName,
    maxAssetsPerCall: cfg.tcss.maxAssetsPerCall,
    maxAttempts: cfg.tcss.maxAttempts,
    backoffMs: cfg.tcss.backoffMs,
  });
}

/** A decimal id as a number (unsafe values stay numbers and are refused by validation); other text as is. */
function idArg(text: string): unknown {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : t;
}

function positiveInt(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v.trim()) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) {
      throw new InvalidArgumentError(`${name} must be a positive whole number, got ${JSON.stringify(v)}`);
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

function nonNegative(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number from 0 up, got ${JSON.stringify(v)}`);
    return n;
  };
}

/** Reads a JSON Lines file (or stdin for `-`): one rescan object per non-blank line. */
export function parseJsonLines(text: string): { items: unknown[]; lines: number[]; problems: string[] } {
  const items: unknown[] = [];
  const lines: number[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
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

function fail(out: Output, message: string, problems: string[] = []): never {
  if (out.json) {
    process.stdout.write(JSON.stringify({ error: message, problems }) + '\n');
  } else {
    process.stderr.write(`tcss-rescan: ${message}\n${problems.map((p) => `  - ${p}\n`).join('')}`);
  }
  process.exit(1);
}

async function enqueueCommand(opts: { policyItem?: unknown; assets?: string; assetType?: string; file?: string; priority?: number; json: boolean }): Promise<void> {
  const out = { json: opts.json };
  const cfg = config();
  let requests: unknown[];
  if (opts.file !== undefined) {
    if (opts.policyItem !== undefined || opts.assets !== undefined || opts.assetType !== undefined) {
      fail(out, 'use either --file or --policy-item/--assets/--asset-type, not both');
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
      fail(out, 'give --policy-item and --assets (or --file)');
    }
    const assetIds = opts.assets.split(',').map((s) => idArg(s));
    requests = [{ policyItemId: opts.policyItem, assetIds, ...(opts.assetType !== undefined ? { assetType: opts.assetType } : {}) }];
    const problems = contractProblems(requests);
    if (problems.length > 0) fail(out, 'refused: nothing was enqueued', problems);
  }

  const producer = producerFor(cfg);
  try {
    const res = await producer.enqueueMany(requests, opts.priority !== undefined ? { priority: opts.priority } : {});
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

async function statusCommand(opts: { json: boolean }): Promise<void> {
  const cfg = config();
  const producer = producerFor(cfg);
  const redis = createRedis(cfg.redis, { maxRetriesPerRequest: 1 });
  try {
    const s = await queueStatus(producer.queue, redis);
    const settings = await checkRedisSettings(redis);
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
    redis.disconnect();
  }
}

async function tasksCommand(opts: { policyItem?: number; limit: number; json: boolean }): Promise<void> {
  const cfg = config();
  const redis = createRedis(cfg.redis, { maxRetriesPerRequest: 1 });
  try {
    const store = new RecordStore(redis, { queueName: cfg.queueName, maxLen: cfg.recordsMaxLen, ttlSeconds: cfg.recordTtlSeconds });
    const { records } = await store.list({ limit: opts.limit, ...(opts.policyItem !== undefined ? { policyItemId: opts.policyItem } : {}) });
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
    redis.disconnect();
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
  hangRate?: number;
  backgroundRps?: number;
  countThrottled?: boolean;
}

/** Simulator options: flags first, then SIM_* variables; the configured key pair when one is given. */
function simulatorOptions(cfg: Config, flags: SimulatorFlags = {}): SimulatorOptions {
  const s = cfg.simulator;
  const creds = cfg.tcss.credentials && !cfg.tcss.usingDemoCredentials ? [{ secretId: cfg.tcss.credentials.secretId, secretKey: cfg.tcss.credentials.secretKey }] : undefined;
  return {
    host: flags.host ?? s.host,
    port: flags.port ?? s.port,
    rateLimit: flags.rateLimit ?? s.rateLimit,
    errorRate: flags.errorRate ?? s.errorRate,
    errorCode: flags.errorCode ?? s.errorCode,
    latencyMs: flags.latencyMs ?? s.latencyMs,
    hangRate: flags.hangRate ?? s.hangRate,
    backgroundRps: flags.backgroundRps ?? s.backgroundRps,
    countThrottled: flags.countThrottled ?? s.countThrottled,
    ...(creds ? { credentials: creds } : {}),
  };
}

async function workerCommand(opts: { concurrency?: number }): Promise<void> {
  const cfg = config();
  const logger = createLogger(cfg.logLevel);
  const { RescanWorker } = await import('./worker');
  const worker = await RescanWorker.start({ config: cfg, logger, ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}) });
  stopOnSignal(logger, () => worker.close());
}

async function serveCommand(): Promise<void> {
  const cfg = config();
  const logger = createLogger(cfg.logLevel);
  const { startServer } = await import('./server/run');
  const server = await startServer(cfg, logger);
  stopOnSignal(logger, () => server.close());
}

/**
 * `npm start`: the service on one machine, worker and server in one process. Without Tencent
 * credentials it calls a local simulator.
 */
async function startCommand(): Promise<void> {
  let cfg = config();
  const logger = createLogger(cfg.logLevel);
  const { RescanWorker } = await import('./worker');
  let sim: Simulator | undefined;
  if (!cfg.tcss.credentials) {
    const { startSimulator, DEMO_SECRET_ID, DEMO_SECRET_KEY } = await import('./simulator');
    sim = await startSimulator(simulatorOptions(cfg));
    logger.warn({ simulator: sim.url }, 'no Tencent credentials (TENCENTCLOUD_SECRET_ID/KEY): calling the local TCSS simulator instead of Tencent Cloud');
    cfg = { ...cfg, tcss: { ...cfg.tcss, endpoint: new URL(sim.url), credentials: { secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY }, usingDemoCredentials: true } };
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
  process.stdout.write(`  point workers at it with TCSS_ENDPOINT=${sim.url}${options.credentials ? '' : ' (demo credentials; no TENCENTCLOUD_SECRET_ID needed)'}\n`);
  process.stdout.write(`  read back what it received: ${sim.url}/_sim/stats and ${sim.url}/_sim/calls\n`);
  const stop = () => {
    sim.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function schedulesSyncCommand(opts: { file: string; json: boolean }): Promise<void> {
  const out = { json: opts.json };
  const cfg = config();
  const { parseSchedulesFile, syncSchedules, formatSyncReport, SchedulesError } = await import('./schedules');
  let text: string;
  try {
    text = readFileSync(opts.file === '-' ? 0 : opts.file, 'utf8');
  } catch (err) {
    fail(out, `cannot read ${opts.file}: ${(err as Error).message}`);
  }
  let entries;
  try {
    entries = parseSchedulesFile(text, { maxAssetsPerCall: cfg.tcss.maxAssetsPerCall });
  } catch (err) {
    if (err instanceof SchedulesError) fail(out, `refused ${opts.file}: nothing was changed`, err.problems);
    throw err;
  }
  const producer = producerFor(cfg);
  try {
    const report = await syncSchedules(producer.queue, entries, producer.jobOptions());
    process.stdout.write(opts.json ? JSON.stringify(report) + '\n' : formatSyncReport(report) + '\n');
  } finally {
    await producer.close();
  }
}

async function schedulesListCommand(opts: { json: boolean }): Promise<void> {
  const cfg = config();
  const { listSchedules, formatScheduleList } = await import('./schedules');
  const producer = producerFor(cfg);
  try {
    const list = await listSchedules(producer.queue);
    process.stdout.write(opts.json ? JSON.stringify(list) + '\n' : formatScheduleList(list) + '\n');
  } finally {
    await producer.close();
  }
}

export function buildProgram(): Command {
  const program = new Command('tcss-rescan')
    .description('Rate-limited rescans of Tencent Cloud TCSS compliance check items, through a BullMQ queue')
    .showHelpAfterError()
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : 2);
    });

  program
    .command('enqueue')
    .description('enqueue rescans: one from flags, or many from a JSON Lines file (all or nothing)')
    .option('--policy-item <id>', 'CustomerPolicyItemId of the check item', idArg)
    .option('--assets <ids>', 'comma-separated asset ids')
    .option('--asset-type <type>', 'ASSET_CONTAINER, ASSET_IMAGE, ASSET_HOST, ASSET_K8S, ASSET_CONTAINERD or ASSET_CONTAINERD_CONTAINER')
    .option('--file <path>', 'JSON Lines file of rescan objects, one per line ("-" reads stdin)')
    .option('--priority <n>', 'BullMQ priority (1 = most urgent)', positiveInt('--priority'))
    .option('--json', 'machine-readable output', false)
    .action(enqueueCommand);

  program
    .command('status')
    .description('job counts per state')
    .option('--json', 'print {"waiting":..,"active":..,"delayed":..,"prioritized":..,"completed":..,"failed":..,"paused":..}', false)
    .action(statusCommand);

  program
    .command('tasks')
    .description('recorded TaskIds, newest first')
    .option('--policy-item <id>', 'only this check item', positiveInt('--policy-item'))
    .option('--limit <n>', 'most records to print', positiveInt('--limit'), 50)
    .option('--json', 'one JSON object per line', false)
    .action(tasksCommand);

  program
    .command('start')
    .description('run the service on this machine: worker + server in one process (and, without Tencent credentials, a local simulator)')
    .action(startCommand);

  program
    .command('serve')
    .description('the HTTP server: dashboard at /dashboard, API under /v1, /metrics, /healthz, /readyz')
    .action(serveCommand);

  const schedules = program.command('schedules').description('scheduled (e.g. nightly) rescans from a YAML file');
  schedules
    .command('sync')
    .description("make the queue's schedules match the file exactly (add, update, remove); a bad file changes nothing")
    .requiredOption('--file <path>', 'schedules YAML file (see examples/schedules.yaml; "-" reads stdin)')
    .option('--json', 'print {"added","updated","removed","unchanged"}', false)
    .action(schedulesSyncCommand);
  schedules
    .command('list')
    .description('each schedule with its next run time')
    .option('--json', 'machine-readable output', false)
    .action(schedulesListCommand);

  program
    .command('worker')
    .description('process rescans through the shared 20 req/s budget (SIGTERM/SIGINT: finish calls in flight, exit 0)')
    .option('--concurrency <n>', 'jobs in progress at once in this process (default WORKER_CONCURRENCY)', positiveInt('--concurrency'))
    .action(workerCommand);

  program
    .command('simulator')
    .description('run the TCSS simulator (stand-in for the real endpoint)')
    .option('--port <n>', 'port (default SIM_PORT, 4010; 0 picks a free one)', (v) => (v === '0' ? 0 : positiveInt('--port')(v)))
    .option('--host <host>', 'interface to listen on (default SIM_HOST, 127.0.0.1)')
    .option('--rate-limit <n>', 'requests per second per SecretId and action (default 20)', positiveInt('--rate-limit'))
    .option('--error-rate <f>', 'fraction of calls answered with --error-code', fraction('--error-rate'))
    .option('--error-code <code>', 'error code for --error-rate (default InternalError)')
    .option('--latency-ms <ms>', 'extra latency per answer', nonNegative('--latency-ms'))
    .option('--hang-rate <f>', 'fraction of calls never answered', fraction('--hang-rate'))
    .option('--background-rps <n>', 'another consumer of the same key spending this many req/s', nonNegative('--background-rps'))
    .addOption(new Option('--count-throttled', 'refused calls count toward the window too'))
    .action(simulatorCommand);

  program
    .command('demo')
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

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tcss-rescan: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof ValidationError) {
      process.stderr.write(`tcss-rescan: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`tcss-rescan: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  }
}

if (require.main === module) {
  void main(process.argv);
}
