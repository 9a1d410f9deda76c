/** `status`: the Redis settings that matter, job counts per state, and workers that stopped taking jobs. */
import type { Command } from 'commander';
import { FailFastConnection } from '../redisFailFast';
import { checkRedisSettings } from '../redisSettings';
import { STATES, queueStatus } from '../status';
import { verb } from './env';
import { configFrom, producerFor, withRedisFlags, type RedisFlags } from './redisFlags';

async function statusCommand(opts: RedisFlags & { json: boolean }): Promise<void> {
  const cfg = configFrom(opts);
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
          ? `redis: maxmemory-policy ${Object.values(settings.nodes)
              .map((n) => n.maxmemoryPolicy)
              .join(',')}, persistence ${settings.persistence}\n`
          : `redis: ${settings.note}\n`,
      );
      for (const p of settings.problems) process.stdout.write(`  WARNING ${p.setting} is ${p.found}: ${p.fix}\n`);
      process.stdout.write(`queue ${s.queue}${s.queuePaused ? ' (PAUSED)' : ''}\n`);
      for (const k of STATES) process.stdout.write(`  ${k.padEnd(12)} ${s.counts[k]}\n`);
      for (const [id, p] of Object.entries(s.pausedWorkers)) {
        process.stdout.write(
          `  worker ${id} stopped taking jobs: ${p.code} at ${p.at}${p.requestId ? ` (RequestId ${p.requestId})` : ''}\n`,
        );
      }
    }
  } finally {
    await producer.close();
    conn.close();
  }
}

export function addStatusVerb(program: Command): void {
  withRedisFlags(verb(program, 'status'))
    .description('job counts per state')
    .option(
      '--json',
      'print {"waiting":..,"active":..,"delayed":..,"prioritized":..,"completed":..,"failed":..,"paused":..}',
      false,
    )
    .action(statusCommand);
}
