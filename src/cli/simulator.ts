/** `simulator`: the stand-in TCSS endpoint, its flags, and the options they give (also used by `start`). */
import { Option, type Command } from 'commander';
import type { Config } from '../config';
import type { SimulatorOptions } from '../simulator';
import { durationMs, fraction, idList, nonNegative, positiveInt } from './args';
import { verb } from './env';
import { ExitCode } from './errors';
import { configFrom } from './redisFlags';

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

/**
 * Simulator options: flags first, then SIM_* variables. It knows only its demo key pair: never the
 * configured Tencent keys (a simulator must not hold real secrets).
 */
export function simulatorOptions(cfg: Config, flags: SimulatorFlags = {}): SimulatorOptions {
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

async function simulatorCommand(flags: SimulatorFlags): Promise<void> {
  const cfg = configFrom();
  const { startSimulator, DEMO_SECRET_ID, DEMO_SECRET_KEY } = await import('../simulator');
  const options = simulatorOptions(cfg, flags);
  const sim = await startSimulator(options);
  process.stdout.write(`TCSS simulator listening on ${sim.url}\n`);
  process.stdout.write(
    `  point workers at it with TCSS_ENDPOINT=${sim.url} (demo credentials; no TENCENTCLOUD_SECRET_ID needed on loopback)\n`,
  );
  // The demo pair is public (it opens only this simulator); the simulator never holds configured keys.
  process.stdout.write(
    `  demo credentials for other clients (e.g. the official SDKs): SecretId ${DEMO_SECRET_ID}  SecretKey ${DEMO_SECRET_KEY}\n`,
  );
  process.stdout.write(
    `  read back what it received: ${sim.url}/_sim/stats and ${sim.url}/_sim/calls, with the header below\n`,
  );
  process.stdout.write(`  control token: Authorization: Bearer ${sim.controlToken}\n`);
  const stop = () => {
    sim.close().then(
      () => process.exit(ExitCode.ok),
      () => process.exit(ExitCode.failed),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

export function addSimulatorVerb(program: Command): void {
  verb(program, 'simulator')
    .description('run the TCSS simulator (stand-in for the real endpoint)')
    .option('--port <n>', 'port (default SIM_PORT, 4010; 0 picks a free one)', (v) =>
      v === '0' ? 0 : positiveInt('--port')(v),
    )
    .option('--host <host>', 'interface to listen on (default SIM_HOST, 127.0.0.1)')
    .option('--rate-limit <n>', 'requests per second per SecretId and action (default 20)', positiveInt('--rate-limit'))
    .option('--error-rate <f>', 'fraction of calls answered with --error-code', fraction('--error-rate'))
    .option('--error-code <code>', 'error code for --error-rate (default InternalError)')
    .option('--latency-ms <ms>', 'extra latency per answer', nonNegative('--latency-ms'))
    .option(
      '--jitter-ms <ms>',
      "delay each request's arrival (when the rate limit counts it) by a random 0 to this many ms, as a real network does",
      nonNegative('--jitter-ms'),
    )
    .option('--hang-rate <f>', 'fraction of calls never answered', fraction('--hang-rate'))
    .option(
      '--background-rps <n>',
      'another consumer of the same key spending this many req/s',
      nonNegative('--background-rps'),
    )
    .addOption(new Option('--count-throttled', 'refused calls count toward the window too (the default)'))
    .addOption(new Option('--lenient', 'refused calls do not count toward the window (SIM_COUNT_THROTTLED=false)'))
    .option(
      '--control-token <token>',
      'bearer token for /_sim/* (default SIM_CONTROL_TOKEN, else a random one, printed)',
    )
    .option(
      '--temporary-credentials-ttl <duration>',
      'lifetime of AssumeRole keys, e.g. 60s, 15m (default 2h)',
      durationMs('--temporary-credentials-ttl'),
    )
    .option(
      '--missing-asset-ids <ids>',
      'asset ids that do not exist (comma-separated): calls naming one are refused whole',
      idList('--missing-asset-ids'),
    )
    .option(
      '--missing-policy-item-ids <ids>',
      'check items that do not exist (comma-separated): calls naming one are refused',
      idList('--missing-policy-item-ids'),
    )
    .option(
      '--missing-code <code>',
      'error code for calls naming a missing asset or check item (default InvalidParameterValue)',
    )
    .action(simulatorCommand);
}
