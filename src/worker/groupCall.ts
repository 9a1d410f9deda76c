/**
 * The call(s) for a group of jobs (see coalescer.ts): one call for all members, through the shared
 * budget, called again when throttled, recorded for every member. If the API refuses a merged call for
 * a reason that may belong to one member (the error table's scope `job`), the members are split in
 * halves and each half called again (bisect), down to single jobs, so that only the jobs at fault get
 * the refusal: one bad job among n costs about 2*log2(n) more calls.
 */
import type { SharedBudget } from '../budget';
import type { CallMetrics } from '../callMetrics';
import type { Group, Member } from '../coalescer';
import type { CallRecord, JobRef, RescanJobData } from '../job';
import type { Logger } from '../logger';
import type { CoveredJob, RecordStore } from '../records';
import { errorMessage } from '../redact';
import { TcssApiError, type ScanOk, type TcssClient } from '../tcss/client';
import { PausedSignal, type WorkerPause } from './workerPause';

/**
 * The API answered: the record must be written, or the call would be repeated. A Redis blip is waited
 * out: RECORD_SAVE_RETRIES more tries, RECORD_SAVE_FIRST_DELAY_MS doubling up to RECORD_SAVE_MAX_DELAY_MS
 * apart, about 21 s in all: long enough for a failover or a restart of Redis. After that the error goes
 * to the jobs (a transient error: BullMQ retries them).
 */
export const RECORD_SAVE_RETRIES = 8;
export const RECORD_SAVE_FIRST_DELAY_MS = 200;
export const RECORD_SAVE_MAX_DELAY_MS = 5_000;

/** What a job brings to its group. */
export interface GroupPayload {
  ref: JobRef;
  data: RescanJobData;
}

/** What a group's call(s) gave each member: its call's record, or the error for that member. */
export type GroupOutcome = Map<JobRef, CallRecord | Error>;

/** Jobs merge only with jobs for the same check item and asset type. */
export function groupKey(data: RescanJobData): string {
  return `${data.policyItemId}|${data.assetType ?? ''}`;
}

export interface GroupCallDeps {
  /** The budget of the caller identity now (it moves when the identity changes). */
  budget: () => SharedBudget;
  client: TcssClient;
  records: RecordStore;
  metrics: CallMetrics;
  pause: WorkerPause;
  log: Logger;
}

export class GroupCall {
  constructor(private readonly d: GroupCallDeps) {}

  /** The coalescer's runner: every member's outcome; the group closes when its first call leaves. */
  async run(group: Group<GroupPayload>): Promise<GroupOutcome> {
    const outcome: GroupOutcome = new Map();
    await this.callMembers(group.members, outcome, () => group.close());
    return outcome;
  }

  /** Calls for `members` and puts each member's outcome in `outcome`; bisects job-scoped refusals. */
  private async callMembers(
    members: readonly Member<GroupPayload>[],
    outcome: GroupOutcome,
    onLeave?: () => void,
  ): Promise<void> {
    try {
      const record = await this.callOnce(members, onLeave);
      for (const m of members) outcome.set(m.payload.ref, record);
    } catch (err) {
      if (err instanceof TcssApiError && err.scope === 'job' && err.action === 'fail' && members.length > 1) {
        const half = Math.ceil(members.length / 2);
        this.d.log.warn(
          {
            policyItemId: members[0]!.payload.data.policyItemId,
            code: err.code,
            requestId: err.requestId,
            jobs: members.length,
            halves: [half, members.length - half],
          },
          'merged call refused for a reason that may belong to one job: calling again in halves to find the jobs at fault',
        );
        await Promise.all([
          this.callMembers(members.slice(0, half), outcome),
          this.callMembers(members.slice(half), outcome),
        ]);
        return;
      }
      const e = err instanceof Error ? err : new Error(errorMessage(err));
      for (const m of members) outcome.set(m.payload.ref, e);
    }
  }

  /**
   * One call for `members`: through the budget, called again when throttled, recorded for every member.
   * Errors other than throttles are thrown (the caller hands them to the members or bisects).
   * `members` may still grow until `onLeave` (the group's first call): its assets are taken then.
   */
  private async callOnce(members: readonly Member<GroupPayload>[], onLeave?: () => void): Promise<CallRecord> {
    const first = members[0]!.payload.data;
    const log = this.d.log.child({ policyItemId: first.policyItemId });
    const sent = { assetIds: uniqueAssets(members) };
    for (let throttles = 0; ; throttles++) {
      let answer: ScanOk | 'paused';
      try {
        answer = await this.send(first, members, sent, onLeave);
      } catch (err) {
        if (!(err instanceof TcssApiError)) throw err;
        if (!(await this.refused(err, members, sent.assetIds, throttles, log))) continue;
        throw err;
      }
      if (answer === 'paused') throw new PausedSignal();
      this.d.metrics.call('OK', answer.latencyMs);
      const record: CallRecord = {
        taskId: answer.taskId,
        requestId: answer.requestId,
        policyItemId: first.policyItemId,
        assetIds: sent.assetIds,
        ...(first.assetType !== undefined ? { assetType: first.assetType } : {}),
        jobIds: members.map((m) => m.payload.ref.id),
        calledAt: new Date().toISOString(),
      };
      this.d.budget().succeeded();
      await this.saveWithRetries(
        record,
        members.map((m) => ({ ...m.payload.ref, assetIds: m.payload.data.assetIds })),
        log,
      );
      const now = Date.now();
      this.d.metrics.taskIdWait(members.map((m) => Math.max(0, now - m.payload.ref.timestamp) / 1000));
      log.debug(
        {
          taskId: record.taskId,
          requestId: record.requestId,
          assets: record.assetIds.length,
          jobIds: record.jobIds,
          latencyMs: Math.round(answer.latencyMs),
        },
        'call recorded',
      );
      return record;
    }
  }

  /** One attempt through the budget; `sent.assetIds` are the assets of the members when it left. */
  private async send(
    first: RescanJobData,
    members: readonly Member<GroupPayload>[],
    sent: { assetIds: number[] },
    onLeave?: () => void,
  ): Promise<ScanOk | 'paused'> {
    const call = this.d.budget().schedule(async () => {
      onLeave?.();
      sent.assetIds = uniqueAssets(members);
      // Groups queued for the budget when the worker paused must not call with bad credentials.
      if (this.d.pause.reason) return 'paused' as const;
      return this.d.client.scan({
        policyItemId: first.policyItemId,
        assetIds: sent.assetIds,
        ...(first.assetType ? { assetType: first.assetType } : {}),
      });
    });
    // On a pause, the group's jobs go back at once rather than when the budget reaches them.
    return Promise.race([call, this.d.pause.gate]);
  }

  /**
   * What a refused call means for the group: false when throttled (call again through the budget);
   * true when the error stands (thrown to the members); a `pause` code pauses the worker first and
   * throws PausedSignal.
   */
  private async refused(
    err: TcssApiError,
    members: readonly Member<GroupPayload>[],
    assetIds: number[],
    throttles: number,
    log: Logger,
  ): Promise<boolean> {
    this.d.metrics.call(err.code, err.latencyMs);
    const fields = {
      code: err.code,
      requestId: err.requestId,
      latencyMs: Math.round(err.latencyMs),
      assets: assetIds.length,
      jobIds: members.map((m) => m.payload.ref.id),
    };
    if (err.action === 'throttle') {
      const rate = await this.d.budget().throttled(err);
      log.warn(
        { ...fields, throttles: throttles + 1, rate: Math.round(rate * 100) / 100 },
        'throttled by the API: calling again through the budget',
      );
      return false;
    }
    if (err.action === 'pause') {
      await this.d.pause.pause(err);
      throw new PausedSignal();
    }
    log.warn(fields, 'call failed');
    return true;
  }

  /** Writes the record, waiting out Redis blips (see RECORD_SAVE_RETRIES). */
  private async saveWithRetries(record: CallRecord, jobs: CoveredJob[], log: Logger): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        await this.d.records.save(record, jobs);
        return;
      } catch (err) {
        if (i >= RECORD_SAVE_RETRIES) throw err;
        log.warn(
          { err, taskId: record.taskId, requestId: record.requestId },
          'could not record the TaskId yet: retrying',
        );
        await new Promise((r) =>
          setTimeout(r, Math.min(RECORD_SAVE_MAX_DELAY_MS, RECORD_SAVE_FIRST_DELAY_MS * 2 ** i)),
        );
      }
    }
  }
}

/** Unique asset ids of the members, in order of arrival. */
function uniqueAssets(members: readonly Member<GroupPayload>[]): number[] {
  return [...new Set(members.flatMap((m) => m.assetIds))];
}
