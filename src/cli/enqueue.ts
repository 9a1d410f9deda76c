/** `enqueue`: one rescan from flags, or many from a JSON Lines file, all or nothing. */
import type { Command } from 'commander';
import { ValidationError } from '../job';
import { MAX_PRIORITY, validateAll } from '../producer';
import { idArg, positiveInt } from './args';
import { verb } from './env';
import { ExitCode, fail, type Output } from './errors';
import { readInput } from './input';
import { MAX_LINE_CHARS, parseJsonLines } from './jsonLines';
import { configFrom, producerFor, withRedisFlags, type RedisFlags } from './redisFlags';

interface EnqueueFlags extends RedisFlags {
  policyItem?: unknown;
  assets?: string;
  assetType?: string;
  file?: string;
  priority?: number;
  idempotencyKey?: string;
  json: boolean;
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

/** The rescans of `--file`, every one valid; otherwise says why and exits (nothing is enqueued). */
function requestsFromFile(out: Output, opts: EnqueueFlags & { file: string }): unknown[] {
  if (opts.policyItem !== undefined || opts.assets !== undefined || opts.assetType !== undefined) {
    fail(out, 'use either --file or --policy-item/--assets/--asset-type, not both', [], ExitCode.usage, 'USAGE');
  }
  const parsed = parseJsonLines(readInput(out, opts.file));
  const requests = parsed.items;
  const where = (i: number) => `line ${parsed.lines[i]}`;
  // Every bad line at once, JSON and contract problems alike, in line order.
  const problems = [...parsed.problems, ...contractProblems(requests, where)].sort((a, b) => lineOf(a) - lineOf(b));
  if (problems.length > 0) fail(out, `refused ${opts.file}: nothing was enqueued`, problems);
  if (requests.length === 0) fail(out, `refused ${opts.file}: it holds no rescans`);
  return requests;
}

/** The one rescan of `--policy-item`/`--assets`/`--asset-type`, valid; otherwise says why and exits. */
function requestFromFlags(out: Output, opts: EnqueueFlags): unknown[] {
  if (opts.policyItem === undefined || opts.assets === undefined) {
    fail(out, 'give --policy-item and --assets (or --file)', [], ExitCode.usage, 'USAGE');
  }
  const assetIds = opts.assets.split(',').map((s) => idArg(s));
  const requests = [
    { policyItemId: opts.policyItem, assetIds, ...(opts.assetType !== undefined ? { assetType: opts.assetType } : {}) },
  ];
  const problems = contractProblems(requests);
  if (problems.length > 0) fail(out, 'refused: nothing was enqueued', problems);
  return requests;
}

async function enqueueCommand(opts: EnqueueFlags): Promise<void> {
  const out = { json: opts.json };
  const cfg = configFrom(opts);
  const requests =
    opts.file !== undefined ? requestsFromFile(out, { ...opts, file: opts.file }) : requestFromFlags(out, opts);

  const producer = producerFor(cfg);
  try {
    const res = await producer.enqueueMany(requests, {
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      ...(opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : {}),
    });
    if (opts.json) {
      process.stdout.write(
        JSON.stringify({
          queue: cfg.queueName,
          enqueued: res.jobIds.length,
          jobIds: res.jobIds,
          batchIds: res.batchIds,
        }) + '\n',
      );
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

export function addEnqueueVerb(program: Command): void {
  withRedisFlags(verb(program, 'enqueue'))
    .description('enqueue rescans: one from flags, or many from a JSON Lines file (all or nothing)')
    .option('--policy-item <id>', 'CustomerPolicyItemId of the check item', idArg)
    .option('--assets <ids>', 'comma-separated asset ids')
    .option(
      '--asset-type <type>',
      'ASSET_CONTAINER, ASSET_IMAGE, ASSET_HOST, ASSET_K8S, ASSET_CONTAINERD or ASSET_CONTAINERD_CONTAINER',
    )
    .option(
      '--file <path>',
      `JSON Lines file of rescan objects, one per line, at most ${MAX_LINE_CHARS} characters each ("-" reads stdin)`,
    )
    .option(
      '--priority <n>',
      `BullMQ priority, 1 (most urgent) to ${MAX_PRIORITY.toLocaleString('en-US')}`,
      positiveInt('--priority', MAX_PRIORITY),
    )
    .option(
      '--idempotency-key <key>',
      'retrying with the same key within 24 h returns the same job ids and enqueues nothing new',
    )
    .option('--json', 'machine-readable output (errors too, on stdout)', false)
    .action(enqueueCommand);
}
