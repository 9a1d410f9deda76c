/** `tasks`: the recorded TaskIds, newest first. */
import type { Command } from 'commander';
import { DEFAULT_RECORD_LIST_LIMIT } from '../records';
import { FailFastConnection } from '../redisFailFast';
import { recordStoreFrom } from '../wiring';
import { positiveInt } from './args';
import { verb } from './env';
import { configFrom, withRedisFlags, type RedisFlags } from './redisFlags';

async function tasksCommand(opts: RedisFlags & { policyItem?: number; limit: number; json: boolean }): Promise<void> {
  const cfg = configFrom(opts);
  const conn = new FailFastConnection(cfg.redis, cfg.producerTimeoutMs);
  const redis = conn.client;
  try {
    await conn.ready('nothing was read');
    const store = recordStoreFrom(cfg, redis);
    const { records } = await conn.within(
      store.list({ limit: opts.limit, ...(opts.policyItem !== undefined ? { policyItemId: opts.policyItem } : {}) }),
      'nothing was read',
    );
    if (opts.json) {
      for (const r of records) process.stdout.write(JSON.stringify(r) + '\n');
    } else if (records.length === 0) {
      process.stdout.write('no TaskIds recorded yet\n');
    } else {
      process.stdout.write(
        `${'calledAt'.padEnd(24)} ${'taskId'.padStart(10)}  ${'policyItem'.padStart(10)}  assets  ${'assetType'.padEnd(26)} jobs\n`,
      );
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

export function addTasksVerb(program: Command): void {
  withRedisFlags(verb(program, 'tasks'))
    .description('recorded TaskIds, newest first')
    .option('--policy-item <id>', 'only this check item', positiveInt('--policy-item'))
    .option('--limit <n>', 'most records to print', positiveInt('--limit'), DEFAULT_RECORD_LIST_LIMIT)
    .option('--json', 'one JSON object per line', false)
    .action(tasksCommand);
}
