/**
 * Where TaskIds are kept. Every successful call is written before its jobs complete:
 *
 * - one entry in an append-only Redis stream `tcss-rescan:{<queue>}:tasks` (capped near RECORDS_MAX_LEN),
 *   which other services can read (XREAD / XREVRANGE), field `record` holding the JSON below;
 * - one key per job, `tcss-rescan:{<queue>}:job-task:<jobId>:<job timestamp>`, holding the same JSON for RECORD_TTL_DAYS:
 *   looked up before every call, so a job whose call succeeded is never sent again, even when the worker
 *   died between the API's answer and the job's completion.
 *
 * Both are written in one MULTI/EXEC, so a record is in both places or in neither.
 */
import type { Redis } from 'ioredis';
import type { RescanResult } from './job';
import { keys, type JobRef } from './keys';

export interface RecordStoreOptions {
  queueName: string;
  maxLen: number;
  ttlSeconds: number;
}

export interface ListOptions {
  policyItemId?: number;
  /** Most records to return. Default 100. */
  limit?: number;
  /** Stream id to continue from (exclusive), from a previous page's `next`. */
  before?: string;
}

export interface StoredRecord extends RescanResult {
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
   * `record.jobIds`) that job's view of it (`forJob(ref)`, by default the record itself).
   */
  async save(record: RescanResult, jobs: JobRef[], forJob: (ref: JobRef) => RescanResult = () => record): Promise<string> {
    const json = JSON.stringify(record);
    const multi = this.redis.multi();
    multi.xadd(this.streamKey, 'MAXLEN', '~', String(this.opts.maxLen), '*', 'record', json, 'policyItemId', String(record.policyItemId), 'taskId', String(record.taskId));
    for (const job of jobs) multi.set(keys.jobTask(this.opts.queueName, job), JSON.stringify(forJob(job)), 'EX', this.opts.ttlSeconds);
    const results = await multi.exec();
    if (!results) throw new Error('recording the TaskId failed: transaction aborted');
    for (const [err] of results) if (err) throw err;
    const streamId = results[0]?.[1];
    return typeof streamId === 'string' ? streamId : '';
  }

  /** The record of the call that covered this job, if any. */
  async forJob(job: JobRef): Promise<RescanResult | undefined> {
    const json = await this.redis.get(keys.jobTask(this.opts.queueName, job));
    return json === null ? undefined : (JSON.parse(json) as RescanResult);
  }

  /** Records, newest first, optionally for one policy item; `next` continues the listing. */
  async list(opts: ListOptions = {}): Promise<{ records: StoredRecord[]; next?: string }> {
    const limit = opts.limit ?? 100;
    const out: StoredRecord[] = [];
    let end = opts.before ? `(${opts.before}` : '+';
    // Scan the stream backwards in pages, filtering as we go.
    for (;;) {
      const page = (await this.redis.xrevrange(this.streamKey, end, '-', 'COUNT', Math.max(limit * 2, 200))) as [string, string[]][];
      for (const [id, fields] of page) {
        const json = fieldValue(fields, 'record');
        if (json === undefined) continue;
        const rec = JSON.parse(json) as RescanResult;
        if (opts.policyItemId !== undefined && rec.policyItemId !== opts.policyItemId) continue;
        out.push({ id, ...rec });
        if (out.length === limit) return { records: out, next: id };
      }
      if (page.length === 0) return { records: out };
      end = `(${page[page.length - 1]![0]}`;
    }
  }

  /** How many records the stream holds. */
  async count(): Promise<number> {
    return this.redis.xlen(this.streamKey);
  }
}

function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
