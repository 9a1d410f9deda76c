/**
 * The long-running verbs: `worker`, `serve`, and `start` (both in one process). Each stops on
 * SIGTERM/SIGINT after finishing the calls in flight.
 */
import type { Command } from 'commander';
import { createLogger, type Logger } from '../logger';
import type { Simulator } from '../simulator';
import { withDemoCredentials } from '../wiring';
import { positiveInt } from './args';
import { verb } from './env';
import { ExitCode } from './errors';
import { configFrom, withRedisFlags, type RedisFlags } from './redisFlags';
import { simulatorOptions } from './simulator';

/**
 * Keeps the process up until SIGTERM/SIGINT, then runs `stop` (finish calls in flight) and exits 0.
 * A second signal exits at once: jobs in flight then come back as stalled jobs, nothing is lost.
 */
function stopOnSignal(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now; jobs in flight come back as stalled jobs');
      process.exit(ExitCode.failed);
    }
    stopping = true;
    logger.info({ signal }, 'stopping: no new jobs; finishing calls in flight');
    stop().then(
      () => process.exit(ExitCode.ok),
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(ExitCode.failed);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

async function workerCommand(opts: RedisFlags & { concurrency?: number }): Promise<void> {
  const cfg = configFrom(opts);
  const logger = createLogger(cfg.logLevel);
  const { RescanWorker } = await import('../worker');
  const worker = await RescanWorker.start({
    config: cfg,
    logger,
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
  });
  stopOnSignal(logger, () => worker.close());
}

async function serveCommand(opts: RedisFlags): Promise<void> {
  const cfg = configFrom(opts);
  const logger = createLogger(cfg.logLevel);
  const { startServer } = await import('../server/run');
  const server = await startServer(cfg, logger);
  stopOnSignal(logger, () => server.close());
}

/**
 * `npm start`: the service on one machine, worker and server in one process. Without Tencent
 * credentials it calls a local simulator.
 */
async function startCommand(opts: RedisFlags): Promise<void> {
  let cfg = configFrom(opts);
  const logger = createLogger(cfg.logLevel);
  const { RescanWorker } = await import('../worker');
  let sim: Simulator | undefined;
  // No keys of any kind (a role, a profile, the CVM role or TKE's identity would be keys): the simulator.
  if (!cfg.tcss.credentials && cfg.tcss.credentialSource === 'env') {
    const { startSimulator } = await import('../simulator');
    sim = await startSimulator(simulatorOptions(cfg));
    logger.warn(
      { simulator: sim.url },
      'no Tencent credentials (TENCENTCLOUD_SECRET_ID/KEY): calling the local TCSS simulator instead of Tencent Cloud',
    );
    cfg = withDemoCredentials(cfg, sim.url);
  }
  const { startServer } = await import('../server/run');
  const { requireServerAccess } = await import('../config');
  requireServerAccess(cfg.server); // refuse before starting anything
  const worker = await RescanWorker.start({ config: cfg, logger });
  const server = await startServer(cfg, logger);
  stopOnSignal(logger, async () => {
    await server.close();
    await worker.close();
    await sim?.close();
  });
}

export function addServiceVerbs(program: Command): void {
  withRedisFlags(verb(program, 'start'))
    .description(
      'run the service on this machine: worker + server in one process (and, without Tencent credentials, a local simulator)',
    )
    .action(startCommand);

  withRedisFlags(verb(program, 'serve'))
    .description('the HTTP server: dashboard at /dashboard, API under /v1, /metrics, /healthz, /readyz')
    .action(serveCommand);
}

export function addWorkerVerb(program: Command): void {
  withRedisFlags(verb(program, 'worker'))
    .description('process rescans through the shared 20 req/s budget (SIGTERM/SIGINT: finish calls in flight, exit 0)')
    .option(
      '--concurrency <n>',
      'jobs in progress at once in this process (default WORKER_CONCURRENCY)',
      positiveInt('--concurrency'),
    )
    .action(workerCommand);
}
