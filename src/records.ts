/**
 * Where TaskIds are kept. Every successful call is written before its jobs complete:
 *
 * - one entry in an append-only Redis stream `tcss-rescan:{<queue>}:tasks` (capped near RECORDS_MAX_LEN),
 *   which other services can read (XREAD / XREVRANGE), field `record` holding the JSON below;
 * - one key per job, `tcss-rescan:{<queue>}:job-task:<jobId>:<job timestamp>`, holding that job's result
 *   (job.ts jobResult: the call's TaskId with the job's own assets) for RECORD_TTL_DAYS: looked up before
 *   every call, so a job whose call succeeded is never sent again, even when the worker died between
 *   the API's answer and the job's completion.
 *
 * - the record's stream id in an index of its check item, `tcss-rescan:<queue>:tasks-by-item:<policyItemId>`
 *   (a sorted set ordered by id), so that listing one item's records costs what it returns instead of a
 *   walk through the whole stream (1.2 s at 100k records). The index is trimmed with the stream: at each
 *   write for entries the stream no longer holds, and when a listing meets one.
 *
 * All are written in one MULTI/EXEC, so a record is in every place or in none.
 */
import type { Redis } from 'ioredis';
import { jobResult, type CallRecord, type JobRef, type RescanJobResult } from './job';
import { keys } from './keys';

/** Stream entries read per round trip when indexing old records: big pages, few trips, bounded replies. */
const INDEX_PAGE_SIZE = 1000;

export interface RecordStoreOptions {
  queueName: string;
  maxLen: number;
  ttlSeconds: number;
}

/**
 * Records per listing when the caller does not say: `tcss-rescan tasks --limit` and `GET /v1/tasks?limit`
 * (documented as 50 in the README and the OpenAPI description) use it too.
 */
export const DEFAULT_RECORD_LIST_LIMIT = 50;

export interface ListOptions {
  policyItemId?: number;
  /** Most records to return. Default DEFAULT_RECORD_LIST_LIMIT. */
  limit?: number;
  /** Stream id to continue from (exclusive), from a previous page's `next`. */
  before?: string;
}

/** A job a call covered. */
export interface CoveredJob extends JobRef {
  /** The job's own asset ids. Default: all of the call's (a job alone in its call). */
  assetIds?: readonly number[];
}

/** A call's record as listed: with its place in the stream. */
export interface StoredRecord extends CallRecord {
  /** The stream entry id (also a timestamp: `<ms>-<seq>`). */
  id: string;
}

export class RecordStore {
  readonly streamKey: string;

  constructor(
    private readonly redis: Redis,
    private readonly opts: RecordStoreOptions,
  ) {
    this.streamKey = keys.tasks(opts.queueName);
  }

  /**
   * Writes one call's record to the stream, and for every job it covered (`jobs`: the same jobs as
   * `call.jobIds`) that job's result.
   */
  async save(call: CallRecord, jobs: readonly CoveredJob[]): Promise<string> {
    const json = JSON.stringify(call);
    const multi = this.redis.multi();
    multi.xadd(
      this.streamKey,
      'MAXLEN',
      '~',
      String(this.opts.maxLen),
      '*',
      'record',
      json,
      'policyItemId',
      String(call.policyItemId),
      'taskId',
      String(call.taskId),
    );
    // Inside the same transaction, so the stream's newest entry is the one just added.
    multi.eval(
      INDEX_NEWEST,
      3,
      this.streamKey,
      keys.tasksByItem(this.opts.queueName, call.policyItemId),
      keys.tasksIndexed(this.opts.queueName),
    );
    for (const job of jobs) {
      const result = jobResult(call, { id: job.id, assetIds: job.assetIds ?? call.assetIds });
      multi.set(keys.jobTask(this.opts.queueName, job), JSON.stringify(result), 'EX', this.opts.ttlSeconds);
    }
    const results = await multi.exec();
    if (!results) throw new Error('recording the TaskId failed: transaction aborted');
    for (const [err] of results) if (err) throw err;
    const streamId = results[0]?.[1];
    return typeof streamId === 'string' ? streamId : '';
  }

  /** The result of the job, from the record of the call that covered it, if any. */
  async forJob(job: JobRef): Promise<RescanJobResult | undefined> {
    const json = await this.redis.get(keys.jobTask(this.opts.queueName, job));
    return json === null ? undefined : (JSON.parse(json) as RescanJobResult);
  }

  /** Records, newest first, optionally for one policy item; `next` continues the listing. */
  async list(opts: ListOptions = {}): Promise<{ records: StoredRecord[]; next?: string }> {
    const limit = opts.limit ?? DEFAULT_RECORD_LIST_LIMIT;
    if (opts.policyItemId !== undefined) return this.listItem(opts.policyItemId, limit, opts.before);
    const out: StoredRecord[] = [];
    let end = opts.before ? `(${opts.before}` : '+';
    // Scan the stream backwards in pages (an entry without a record is not ours: skipped).
    for (;;) {
      const page = (await this.redis.xrevrange(this.streamKey, end, '-', 'COUNT', limit)) as [string, string[]][];
      for (const [id, fields] of page) {
        const json = fieldValue(fields, 'record');
        if (json === undefined) continue;
        out.push({ id, ...(JSON.parse(json) as CallRecord) });
        if (out.length === limit) return { records: out, next: id };
      }
      if (page.length === 0) return { records: out };
      end = `(${page[page.length - 1]![0]}`;
    }
  }

  /** One item's records through its index: one range read, then one stream read per record. */
  private async listItem(
    policyItemId: number,
    limit: number,
    before: string | undefined,
  ): Promise<{ records: StoredRecord[]; next?: string }> {
    await this.indexExisting();
    const index = keys.tasksByItem(this.opts.queueName, policyItemId);
    const members = await this.redis.zrevrangebylex(index, before ? `(${padId(before)}` : '+', '-', 'LIMIT', 0, limit);
    if (members.length === 0) return { records: [] };
    const pipe = this.redis.pipeline();
    for (const m of members) pipe.xrange(this.streamKey, unpadId(m), unpadId(m));
    const entries = (await pipe.exec()) ?? [];
    const out: StoredRecord[] = [];
    for (const [i, [err, page]] of entries.entries()) {
      if (err) throw err;
      const entry = (page as [string, string[]][])[0];
      if (entry === undefined) {
        // Trimmed from the stream; so is everything older (the stream is trimmed oldest first).
        await this.redis.zremrangebylex(index, '-', `[${members[i]!}`);
        return { records: out };
      }
      const json = fieldValue(entry[1], 'record');
      if (json !== undefined) out.push({ id: entry[0], ...(JSON.parse(json) as CallRecord) });
    }
    return members.length === limit ? { records: out, next: unpadId(members[members.length - 1]!) } : { records: out };
  }

  /**
   * Indexes the records written before the index existed (once per queue: a marker key says it was
   * done; running it twice is harmless). Called before the first listing by item.
   */
  async indexExisting(): Promise<number> {
    if (this.indexed) return 0;
    const marker = keys.tasksIndexed(this.opts.queueName);
    if ((await this.redis.exists(marker)) === 1) {
      this.indexed = true;
      return 0;
    }
    let start = '-';
    let n = 0;
    for (;;) {
      const page = (await this.redis.xrange(this.streamKey, start, '+', 'COUNT', INDEX_PAGE_SIZE)) as [
        string,
        string[],
      ][];
      if (page.length === 0) break;
      const pipe = this.redis.pipeline();
      for (const [id, fields] of page) {
        const item = fieldValue(fields, 'policyItemId');
        if (item === undefined || !/^[1-9]\d{0,15}$/.test(item)) continue;
        pipe.zadd(keys.tasksByItem(this.opts.queueName, Number(item)), 0, padId(id));
        n++;
      }
      await pipe.exec();
      start = `(${page[page.length - 1]![0]}`;
    }
    await this.redis.set(marker, new Date().toISOString());
    this.indexed = true;
    return n;
  }
  private indexed = false;

  /** How many records the stream holds. */
  async count(): Promise<number> {
    return this.redis.xlen(this.streamKey);
  }
}

/** A stream id as an index member: both parts zero-padded to 20 digits, so lexical order is id order. */
export function padId(id: string): string {
  const [ms = '0', seq = '0'] = id.split('-');
  return `${ms.padStart(20, '0')}-${seq.padStart(20, '0')}`;
}

function unpadId(member: string): string {
  const [ms = '0', seq = '0'] = member.split('-');
  return `${ms.replace(/^0+(?=\d)/, '')}-${seq.replace(/^0+(?=\d)/, '')}`;
}

/**
 * KEYS: the stream, the item's index, the "indexed" marker. Adds the stream's newest entry (the one just
 * written, in the same MULTI) to the index, and drops index entries older than the stream's oldest
 * (trimmed by MAXLEN). A stream that this write created holds nothing unindexed: it is marked so.
 */
const INDEX_NEWEST = `
local function pad(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return string.rep('0', 20 - #ms) .. ms .. '-' .. string.rep('0', 20 - #seq) .. seq
end
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
if newest then redis.call('ZADD', KEYS[2], 0, pad(newest[1])) end
if oldest then redis.call('ZREMRANGEBYLEX', KEYS[2], '-', '(' .. pad(oldest[1])) end
if redis.call('XLEN', KEYS[1]) == 1 then redis.call('SET', KEYS[3], 'indexed from the first record', 'NX') end
return 1
`;

function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
