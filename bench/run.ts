/**
 * `npm run bench [-- --quick]`: the benchmark suite. Starts its own throwaway redis-server and the
 * simulator (its own process, strictest mode: sliding 1-second window by arrival), runs each section,
 * prints every table to stdout (progress goes to stderr) and writes them all to BENCHMARKS.md with the
 * machine, the date and the settings. Every figure comes from this run. No pass/fail: targets are
 * reported as met or not. Every process it started is ended, on errors and Ctrl-C too.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis, { type Redis } from 'ioredis';
import { loadConfig } from '../src/config';
import { startRedisServer, type RedisServerHandle } from '../src/redisServer';
import { killAllChildrenSync, stopAllChildren } from './children';
import { runCoalescing } from './coalescing';
import type { Harness, SectionResult } from './harness';
import { describeMachine, type Machine } from './machine';
import { count, fixed, mib, table, yesNo } from './markdown';
import { benchOptions, type BenchOptions } from './options';
import { runPacing } from './pacing';
import { runPath } from './path';
import { runSharing } from './sharing';
import { runFreshStart, runKillRecovery, runNetwork } from './network';
import { startSimulatorProcess, type SimulatorProcess } from './simulatorProcess';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const BASELINE_SCRIPT = path.join(__dirname, 'baselineWorker.js');
const OUTPUT = path.join(ROOT, 'BENCHMARKS.md');

type Section = (h: Harness, progress: (line: string) => void) => Promise<SectionResult>;
const SECTIONS: [string, Section][] = [
  ['1. Pacing with a backlog', runPacing],
  ['2. Sharing the budget', runSharing],
  ['3. Coalescing', runCoalescing],
  ['4. The rest of the path', runPath],
  ['5. Pacing over a real network: a long run, arrival jitter', runNetwork],
  ['6. Fresh processes starting together', runFreshStart],
  ['7. kill -9 of a worker: recovery', runKillRecovery],
];

/** The environment for children, without anything that would configure the service or the simulator. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(TENCENTCLOUD_|TCSS_|SIM_|REDIS_URL$|QUEUE_NAME$|WORKER_|LOG_LEVEL$|RECORD)/.test(k),
    ),
  );
}

/** The commit measured, and whether src/ differed from it (read-only git commands). */
function codeVersion(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', ['--no-optional-locks', '-C', ROOT, ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'src') !== '';
    return `commit ${commit}${dirty ? ', with uncommitted changes in src/' : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

function progress(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function header(
  o: BenchOptions,
  machine: Machine,
  h: Harness,
  started: Date,
  seconds: number,
  loadEnd: number,
): string {
  const d = h.defaults.tcss;
  return [
    '# Benchmarks',
    '',
    `The latest \`npm run bench${o.mode === 'quick' ? ' -- --quick' : ''}\` run; each run overwrites this file. Every figure below comes from that run.`,
    '',
    `- **Date**: ${started.toISOString()}; the run took ${fixed(seconds, 0)} s`,
    `- **Code**: ${codeVersion()} (dist/ built by \`npm run bench\` from it)`,
    `- **Mode**: ${o.mode}${o.mode === 'quick' ? ' (smaller runs for CI; `npm run bench` for the full one)' : ''}`,
    `- **Machine**: ${machine.cpuModel}, ${machine.cores} cores, ${mib(machine.memoryBytes, 0)} memory, ${machine.os}; load average (1 min) ${fixed(machine.loadAverage)} at the start, ${fixed(loadEnd)} at the end (other work on the machine disturbs timing)`,
    `- **Software**: Node.js ${machine.node}, Redis ${machine.redis} (a throwaway redis-server started by the run, no persistence), BullMQ, Bottleneck and ioredis as locked in package-lock.json`,
    `- **Simulator**: its own process; limit ${o.rateLimit} req/s per (SecretId, action) over a sliding 1-second window by arrival; ${o.simLatencyMs} ms latency per answer; refused calls count toward the window (as the real API's message says) unless a table says otherwise`,
    `- **Ours**: \`tcss-rescan worker\` processes (dist/cli.js) with the service's defaults unless a table says otherwise: TCSS_RATE_LIMIT ${d.rateLimit}, TCSS_PACING_MARGIN_MS ${d.pacingMarginMs}, ` +
      `TCSS_WINDOW_GUARD_MS ${d.windowGuardMs}, TCSS_MAX_IN_FLIGHT ${d.maxInFlight}, TCSS_ADAPTIVE_RATE ${d.adaptiveRate}, TCSS_COALESCE ${d.coalesce} (window ${d.coalesceWindowMs} ms), ` +
      `TCSS_MAX_ASSETS_PER_CALL ${d.maxAssetsPerCall}, WORKER_CONCURRENCY ${h.defaults.workerConcurrency}, LOG_LEVEL warn`,
    `- **Timed runs** (pacing, sharing, network, fresh processes): the workers start and are ready, the backlog is enqueued into the paused queue, and the run's time starts when the queue is resumed; rates are over first to last arrival`,
    `- **Run sizes**: pacing ${o.pacingSeconds} s per run at ${o.pacingProcessCounts.join(', ')} process(es); sharing ${o.sharingSeconds} s per run, ${o.sharingProcesses} processes, other consumer ${o.backgroundRps} req/s; ` +
      `coalescing ${count(o.coalesceJobs)} jobs (${count(o.uncoalescedJobs)} without); enqueue ${count(o.enqueueJobs)} jobs; ` +
      `network: ${o.longSeconds} s without jitter and ${o.jitterSeconds} s with 0–${o.jitterMs} ms arrival jitter at ${o.networkProcessCounts.join(', ')} processes; ` +
      `${o.freshRepeats} × ${o.freshProcesses} fresh processes; ${o.killRepeats} × kill -9 of one of two workers`,
  ].join('\n');
}

function targetsSection(results: SectionResult[]): string {
  const rows = results.flatMap((r) => r.targets.map((t) => [t.target, t.measured, yesNo(t.met)]));
  const gaps = results.flatMap((r) =>
    r.targets.filter((t) => !t.met).map((t) => `- ${t.target}: ${t.measured}. See "${r.title}".`),
  );
  return [
    '## Targets',
    '',
    table(['target', 'measured', 'met'], rows),
    '',
    gaps.length === 0 ? 'Every target was met in this run.' : ['Gaps in this run:', '', ...gaps].join('\n'),
  ].join('\n');
}

async function main(): Promise<void> {
  const { opts, only } = benchOptions(process.argv.slice(2));
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run bench does)`);
  const started = new Date();
  const t0 = performance.now();
  const cwd = mkdtempSync(path.join(os.tmpdir(), 'tcss-rescan-bench-'));
  let redisServer: RedisServerHandle | undefined;
  let redis: Redis | undefined;
  let sim: SimulatorProcess | undefined;

  const onExit = () => {
    killAllChildrenSync();
    if (redisServer && redisServer.pid > 0) {
      try {
        process.kill(redisServer.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', onExit);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      progress(`${signal}: stopping every process the bench started`);
      void stopAllChildren()
        .then(() => redisServer?.stop(true))
        .finally(() => {
          rmSync(cwd, { recursive: true, force: true });
          process.exit(130);
        });
    });
  }

  try {
    progress(`mode ${opts.mode}: starting a throwaway redis-server and the simulator`);
    redisServer = await startRedisServer();
    redis = new IORedis(redisServer.url, { maxRetriesPerRequest: null });
    const env = cleanEnv();
    sim = await startSimulatorProcess({ cli: CLI, cwd, env, latencyMs: opts.simLatencyMs, rateLimit: opts.rateLimit });
    const machine = await describeMachine(redis);
    const defaults = loadConfig({});
    const h: Harness = {
      opts,
      redis,
      redisServer,
      sim,
      spawn: {
        cli: CLI,
        baselineScript: BASELINE_SCRIPT,
        cwd,
        baseEnv: env,
        redisUrl: redisServer.url,
        simUrl: sim.url,
      },
      defaults: { tcss: defaults.tcss, workerConcurrency: defaults.workerConcurrency },
    };

    const results: SectionResult[] = [];
    for (const [name, run] of SECTIONS.filter(
      ([name]) => only.length === 0 || only.includes(Number.parseInt(name, 10)),
    )) {
      let result: SectionResult;
      const load = os.loadavg()[0] ?? 0;
      try {
        result = await run(h, progress);
      } catch (err) {
        progress(`${name} failed: ${(err as Error).message}`);
        result = { title: name, body: `**This section failed**: ${(err as Error).stack ?? String(err)}`, targets: [] };
      } finally {
        // A failed run must not leave a worker behind.
        await stopAllChildren([sim.child]);
      }
      result = {
        ...result,
        body: `_Load average (1 min) when this section started: ${fixed(load)}._\n\n${result.body}`,
      };
      results.push(result);
      process.stdout.write(`\n## ${result.title}\n\n${result.body}\n`);
      // The simulator is restarted if a failure took it down.
      if (sim.child.process.exitCode !== null || sim.child.process.signalCode !== null) {
        sim = await startSimulatorProcess({
          cli: CLI,
          cwd,
          env,
          latencyMs: opts.simLatencyMs,
          rateLimit: opts.rateLimit,
        });
        h.sim = sim;
        h.spawn.simUrl = sim.url;
      }
    }

    const seconds = (performance.now() - t0) / 1000;
    const targets = targetsSection(results);
    process.stdout.write(`\n${targets}\n`);
    const md = [
      header(opts, machine, h, started, seconds, os.loadavg()[0] ?? 0),
      '',
      targets,
      '',
      ...results.map((r) => `## ${r.title}\n\n${r.body}\n`),
    ].join('\n');
    // A partial run (--only) never overwrites the full report.
    const output = only.length === 0 ? OUTPUT : path.join(os.tmpdir(), `BENCHMARKS-only-${only.join('-')}.md`);
    writeFileSync(output, md);
    progress(`wrote ${path.relative(process.cwd(), output) || output}; the run took ${fixed(seconds, 0)} s`);
  } finally {
    await stopAllChildren();
    redis?.disconnect();
    await redisServer?.stop();
    rmSync(cwd, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
