/** `schedules sync` and `schedules list`: scheduled (e.g. nightly) rescans from a YAML file (src/schedules/). */
import type { Command } from 'commander';
import { verb } from './env';
import { fail } from './errors';
import { readInput } from './input';
import { configFrom, producerFor, withRedisFlags, type RedisFlags } from './redisFlags';

async function schedulesSyncCommand(
  opts: RedisFlags & { file: string; allowSubMinute: boolean; json: boolean },
): Promise<void> {
  const out = { json: opts.json };
  const cfg = configFrom(opts);
  const { parseSchedulesFile, syncSchedules, SchedulesError } = await import('../schedules');
  const { formatSyncReport } = await import('./schedulesFormat');
  const text = readInput(out, opts.file);
  let entries;
  try {
    entries = parseSchedulesFile(text, {
      maxAssetsPerCall: cfg.tcss.maxAssetsPerCall,
      allowSubMinute: opts.allowSubMinute,
    });
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
  const cfg = configFrom(opts);
  const { listSchedules } = await import('../schedules');
  const { formatScheduleList } = await import('./schedulesFormat');
  const producer = producerFor(cfg);
  try {
    await producer.ready();
    const list = await listSchedules(producer.queue);
    process.stdout.write(opts.json ? JSON.stringify(list) + '\n' : formatScheduleList(list) + '\n');
  } finally {
    await producer.close();
  }
}

export function addSchedulesVerbs(program: Command): void {
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
}
