/**
 * Starting worker processes for a run: ours (`tcss-rescan worker`, the built CLI) or a baseline
 * (baselineWorker.ts), N at once, and waiting until every one of them takes jobs (BullMQ lists it as
 * a worker of the queue), so that a run measures work, not start-up.
 */
import type { Queue } from 'bullmq';
import { spawnNode, type Child } from './children';
import type { BaselineKind } from './baselineWorker';

export type Implementation =
  { kind: 'ours'; env?: Record<string, string> } | { kind: 'baseline'; baseline: BaselineKind };

export interface WorkerSpawnContext {
  /** dist/cli.js */
  cli: string;
  /** dist-bench/bench/baselineWorker.js */
  baselineScript: string;
  cwd: string;
  /** The environment without anything that would configure the service (TCSS_*, SIM_*, TENCENTCLOUD_*). */
  baseEnv: NodeJS.ProcessEnv;
  redisUrl: string;
  simUrl: string;
}

export async function startWorkers(
  ctx: WorkerSpawnContext,
  impl: Implementation,
  count: number,
  queue: Queue,
): Promise<Child[]> {
  const env: NodeJS.ProcessEnv = {
    ...ctx.baseEnv,
    REDIS_URL: ctx.redisUrl,
    QUEUE_NAME: queue.name,
    TCSS_ENDPOINT: ctx.simUrl,
    LOG_LEVEL: 'warn',
  };
  const children: Child[] = [];
  for (let i = 0; i < count; i++) {
    children.push(
      impl.kind === 'ours'
        ? spawnNode(`worker ${i + 1}`, ctx.cli, ['worker'], { env: { ...env, ...impl.env }, cwd: ctx.cwd })
        : spawnNode(`${impl.baseline} ${i + 1}`, ctx.baselineScript, [], {
            env: { ...env, BENCH_BASELINE: impl.baseline },
            cwd: ctx.cwd,
          }),
    );
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const dead = children.find((c) => c.process.exitCode !== null || c.process.signalCode !== null);
    if (dead) throw new Error(`${dead.name} exited during start-up:\n${dead.tail()}`);
    if ((await queue.getWorkersCount()) >= count) return children;
    if (Date.now() > deadline)
      throw new Error(
        `workers not ready within 30 s; last output:\n${children.map((c) => `${c.name}: ${c.tail()}`).join('\n')}`,
      );
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
