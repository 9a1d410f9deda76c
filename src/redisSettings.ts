/**
 * The Redis settings BullMQ and we depend on, read at start and shown by /readyz and `status`.
 *
 * - `maxmemory-policy` must be `noeviction`: under memory pressure any other policy deletes keys, that
 *   is jobs, locks, TaskId records and the budget's send log, silently (BullMQ requires it too:
 *   https://docs.bullmq.io/guide/going-to-production#max-memory-policy).
 * - Persistence (`appendonly`, `save`): without it a restart loses the queue and the records. The budget
 *   survives a loss (it assumes the last window was full), the jobs and records do not.
 *
 * A managed Redis often forbids CONFIG GET (ACL, or the command renamed): then we say we could not
 * check, and carry on.
 */
import type { Redis } from 'ioredis';
import { errorMessage } from './redact';

/** One wrong setting: what was found and the exact fix. */
export interface SettingProblem {
  setting: 'maxmemory-policy' | 'persistence';
  found: string;
  fix: string;
}

export interface RedisSettingsReport {
  /** False when CONFIG GET was refused or failed (then only `note` says why). */
  checked: boolean;
  /** Per node on a cluster (`host:port`), else one entry `redis`. */
  nodes: Record<string, { maxmemoryPolicy: string; appendonly: string; save: string }>;
  /** What persistence the nodes have: aof, rdb, aof+rdb, none (the weakest node's on a cluster). */
  persistence?: 'aof' | 'rdb' | 'aof+rdb' | 'none';
  problems: SettingProblem[];
  note?: string;
}

interface NodeLike {
  config(op: 'GET', name: string): Promise<unknown>;
  options?: { host?: string; port?: number };
}

/** The persistence a node has, from its `appendonly` and `save` values. */
export function persistenceOf(appendonly: string, save: string): 'aof' | 'rdb' | 'aof+rdb' | 'none' {
  const aof = appendonly === 'yes';
  const rdb = save.trim() !== '';
  return aof && rdb ? 'aof+rdb' : aof ? 'aof' : rdb ? 'rdb' : 'none';
}

/** Problems with one node's settings, each with the exact fix. */
export function settingProblems(maxmemoryPolicy: string, appendonly: string, save: string): SettingProblem[] {
  const out: SettingProblem[] = [];
  if (maxmemoryPolicy !== 'noeviction') {
    out.push({
      setting: 'maxmemory-policy',
      found: maxmemoryPolicy,
      fix: 'CONFIG SET maxmemory-policy noeviction, then CONFIG REWRITE (or `maxmemory-policy noeviction` in redis.conf; on a managed Redis, in its parameter settings): any other policy evicts jobs, locks and TaskId records under memory pressure',
    });
  }
  if (persistenceOf(appendonly, save) === 'none') {
    out.push({
      setting: 'persistence',
      found: 'appendonly no, save ""',
      fix: 'CONFIG SET appendonly yes, then CONFIG REWRITE (or `appendonly yes` in redis.conf): without persistence a restart loses every queued job and TaskId record',
    });
  }
  return out;
}

function pairs(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}

const RANK = { none: 0, rdb: 1, aof: 2, 'aof+rdb': 3 } as const;

/** Reads the settings of every node we write to (each primary on a cluster). Never throws. */
export async function checkRedisSettings(redis: Redis): Promise<RedisSettingsReport> {
  const cluster =
    (redis as unknown as { isCluster?: boolean; nodes?: (role: 'master') => NodeLike[] }).isCluster === true;
  const targets: [string, NodeLike][] = cluster
    ? (redis as unknown as { nodes(role: 'master'): NodeLike[] })
        .nodes('master')
        .map((n) => [`${n.options?.host}:${n.options?.port}`, n])
    : [['redis', redis]];
  const report: RedisSettingsReport = { checked: true, nodes: {}, problems: [] };
  try {
    for (const [name, node] of targets) {
      const [policy, aof, save] = await Promise.all([
        node.config('GET', 'maxmemory-policy'),
        node.config('GET', 'appendonly'),
        node.config('GET', 'save'),
      ]);
      const s = {
        maxmemoryPolicy: pairs(policy)['maxmemory-policy'] ?? '?',
        appendonly: pairs(aof).appendonly ?? '?',
        save: pairs(save).save ?? '',
      };
      report.nodes[name] = s;
      const p = persistenceOf(s.appendonly, s.save);
      if (report.persistence === undefined || RANK[p] < RANK[report.persistence]) report.persistence = p;
      for (const problem of settingProblems(s.maxmemoryPolicy, s.appendonly, s.save)) {
        if (!report.problems.some((q) => q.setting === problem.setting))
          report.problems.push(cluster ? { ...problem, found: `${problem.found} (node ${name})` } : problem);
      }
    }
    if (targets.length === 0)
      return { checked: false, nodes: {}, problems: [], note: 'could not check the Redis settings: no node known yet' };
    return report;
  } catch (err) {
    return {
      checked: false,
      nodes: {},
      problems: [],
      note: `could not check the Redis settings (CONFIG GET: ${errorMessage(err)}); make sure maxmemory-policy is noeviction and persistence (appendonly yes) is on, e.g. in the managed Redis's parameter settings`,
    };
  }
}

/** Logs what was found: one warning per problem with its fix, or the reason it could not be checked. */
export function logRedisSettings(
  report: RedisSettingsReport,
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void },
): void {
  if (!report.checked) {
    log.warn({ redisSettings: report }, report.note ?? 'could not check the Redis settings');
    return;
  }
  for (const p of report.problems)
    log.warn({ setting: p.setting, found: p.found, fix: p.fix }, `Redis setting ${p.setting} is ${p.found}: ${p.fix}`);
  if (report.problems.length === 0)
    log.info(
      { persistence: report.persistence },
      'Redis settings checked: maxmemory-policy noeviction, persistence on',
    );
}
