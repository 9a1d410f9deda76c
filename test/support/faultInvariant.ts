/**
 * The one invariant every fault scenario ends with. It reads three independent sources:
 *
 *   - the queue (BullMQ): every accepted job, its state, result or failure reason;
 *   - the TaskId records (records.ts): the stream, and the per-job key looked up before calling;
 *   - what the simulator issued: every call it received, with its arrival time, code and TaskId;
 *
 * and requires:
 *
 *   1. no accepted job is missing, and none is left unfinished;
 *   2. a completed job holds a TaskId that the simulator issued (code OK, answer sent) for a call with
 *      the job's policyItemId and assetType whose assetIds contain every one of the job's assets, with
 *      the same RequestId; the same TaskId is in the per-job record and in the stream;
 *   3. a failed job failed for a permanent reason (a code the error table says to fail on, or a
 *      contract violation), never for a transient one (retry/throttle codes: attempts must suffice);
 *   4. every TaskId whose answer reached us is in the stream (none lost), unless the scenario says why
 *      an answer could be lost (a process killed between answer and record); every record is a real call;
 *   5. the budget held: our calls' arrivals in any 1000 ms <= the limit (+ what the scenario documents);
 *   6. duplicates, jobs whose assets went out in more than one successful call, are counted; zero unless
 *      the scenario says which crash made them unavoidable.
 *
 * Asset ids are unique per scenario (faultHarness.workload), so a call is matched to jobs by its assets.
 */
import { appendFileSync } from 'node:fs';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RescanJobData, RescanResult } from '../../src/job';
import { RecordStore } from '../../src/records';
import { maxInWindow, type Simulator, type SimulatorCall } from '../../src/simulator';
import { actionFor } from '../../src/tcss/errorTable';

export interface AcceptedJob {
  id: string;
  data: RescanJobData;
  /** When the producer accepted it (ms). */
  enqueuedAt: number;
}

export interface InvariantOptions {
  scenario: string;
  queue: Queue;
  redis: Redis;
  queueName: string;
  sim: Simulator;
  /** Jobs that must each end completed or failed-for-good. */
  accepted: AcceptedJob[];
  /**
   * Jobs accepted but knowingly lost (the queue itself was lost: Redis restarted without persistence).
   * Not checked for completion; their calls are still matched (so they are not "calls for no job") and
   * reported: how many got a TaskId before the loss.
   */
  lost?: AcceptedJob[];
  /** The API's limit (req/s). Default 20. */
  rateLimit?: number;
  /** Arrivals over the limit tolerated in a 1000 ms window, with the scenario's reason. Default 0. */
  windowAllowance?: { extra: number; why: string };
  /** Why duplicates are unavoidable here; without it any duplicate is a failure. */
  duplicatesExpected?: string;
  /** Why an answered TaskId may be missing from the records; without it any is a failure. */
  unrecordedExpected?: string;
  /** Only calls with seq > this are required to be recorded (e.g. the stream was lost with Redis). */
  recordedFromSeq?: number;
  /** For the summary line: how long the system took to recover from the fault, ms. */
  recoveryMs?: number;
  /** What `recoveryMs` measures, for the summary line. */
  recoveryWhat?: string;
  /** Extra figures for the summary line. */
  notes?: string[];
}

export interface InvariantReport {
  scenario: string;
  jobs: number;
  completed: number;
  failed: number;
  /** Completed from an existing record (a job that ran again after its call was recorded). */
  fromRecord: number;
  /** Jobs whose assets went out in more than one successful call. */
  duplicateJobs: number;
  /** Successful calls that repeated at least one job already covered by an earlier successful call. */
  duplicateCalls: number;
  calls: number;
  okCalls: number;
  throttled: number;
  hung: number;
  /** TaskIds answered to us but not in the records. */
  unrecorded: number;
  /** Most of our arrivals in any 1000 ms. */
  worstWindow: number;
  /** The same, counting the simulated other consumer's admitted arrivals. */
  worstWindowWithBackground: number;
  rateLimit: number;
  lostJobs?: { total: number; calledBeforeLoss: number };
  recoveryMs?: number;
  problems: string[];
  line: string;
}

const FINISHED = ['completed', 'failed'];

/** A failure reason that is permanent: a contract violation, or an API code the error table fails on. */
export function isPermanentReason(reason: string): boolean {
  if (reason.startsWith('invalid job')) return true;
  const code = /^([A-Za-z]+(?:\.[A-Za-z0-9]+)*): /.exec(reason)?.[1];
  return code !== undefined && actionFor(code) === 'fail';
}

function sameType(call: SimulatorCall, data: RescanJobData): boolean {
  return (call.assetType ?? undefined) === (data.assetType ?? undefined);
}

async function readStream(redis: Redis, key: string): Promise<RescanResult[]> {
  const out: RescanResult[] = [];
  let start = '-';
  for (;;) {
    const page = (await redis.xrange(key, start, '+', 'COUNT', 1000)) as [string, string[]][];
    for (const [, fields] of page) {
      const i = fields.indexOf('record');
      if (i >= 0 && fields[i + 1] !== undefined) out.push(JSON.parse(fields[i + 1]!) as RescanResult);
    }
    if (page.length < 1000) return out;
    start = `(${page[page.length - 1]![0]}`;
  }
}

export async function checkFaultInvariant(o: InvariantOptions): Promise<InvariantReport> {
  const problems: string[] = [];
  const problem = (p: string) => {
    if (problems.length < 50) problems.push(p);
    else if (problems.length === 50) problems.push('... more problems not listed');
  };
  const limit = o.rateLimit ?? 20;
  const calls = o.sim.calls();
  const ok = calls.filter((c) => c.code === 'OK');
  const byTaskId = new Map<number | string, (typeof ok)[number]>(ok.map((c) => [c.taskId!, c]));
  const store = new RecordStore(o.redis, { queueName: o.queueName, maxLen: 10_000_000, ttlSeconds: 86_400 });
  const stream = await readStream(o.redis, store.streamKey);
  const streamByTaskId = new Map(stream.map((r) => [r.taskId, r]));

  // 1-3: every accepted job, from the queue.
  let completed = 0;
  let failed = 0;
  let fromRecord = 0;
  for (const a of o.accepted) {
    const job = await o.queue.getJob(a.id);
    if (!job) {
      problem(`job ${a.id} is missing from the queue`);
      continue;
    }
    const data = job.data as RescanJobData;
    if (
      data.policyItemId !== a.data.policyItemId ||
      JSON.stringify(data.assetIds) !== JSON.stringify(a.data.assetIds)
    ) {
      problem(`job ${a.id} holds other data than was accepted: ${JSON.stringify(data)} vs ${JSON.stringify(a.data)}`);
      continue;
    }
    const state = await job.getState();
    if (!FINISHED.includes(state)) {
      problem(`job ${a.id} is not finished: ${state} (attempts ${job.attemptsMade})`);
      continue;
    }
    if (state === 'failed') {
      failed++;
      if (!isPermanentReason(job.failedReason ?? ''))
        problem(`job ${a.id} failed for a transient reason after ${job.attemptsMade} attempt(s): ${job.failedReason}`);
      continue;
    }
    completed++;
    const r = job.returnvalue as RescanResult | null;
    if (!r || typeof r.taskId !== 'number') {
      problem(`job ${a.id} completed without a TaskId: ${JSON.stringify(r)}`);
      continue;
    }
    if (r.fromRecord) fromRecord++;
    const call = byTaskId.get(r.taskId);
    if (!call) {
      problem(`job ${a.id}: TaskId ${r.taskId} was never issued by the simulator`);
      continue;
    }
    if (call.hung) problem(`job ${a.id}: TaskId ${r.taskId} came from a call that was never answered`);
    if (call.policyItemId !== data.policyItemId)
      problem(
        `job ${a.id}: TaskId ${r.taskId} was issued for policy item ${call.policyItemId}, not ${data.policyItemId}`,
      );
    if (!sameType(call, data))
      problem(`job ${a.id}: TaskId ${r.taskId} was issued for asset type ${call.assetType}, not ${data.assetType}`);
    const callAssets = new Set(call.assetIds ?? []);
    const missingAssets = data.assetIds.filter((id) => !callAssets.has(id));
    if (missingAssets.length > 0)
      problem(`job ${a.id}: the call of TaskId ${r.taskId} did not contain asset(s) ${missingAssets.join(', ')}`);
    if (call.requestId !== r.requestId)
      problem(`job ${a.id}: RequestId ${r.requestId} is not the call's ${call.requestId}`);
    if (!r.jobIds.includes(a.id))
      problem(`job ${a.id}: its record's jobIds ${JSON.stringify(r.jobIds)} do not name it`);
    const perJob = await store.forJob({ id: a.id, timestamp: job.timestamp });
    if (!perJob) problem(`job ${a.id}: no per-job record`);
    else if (perJob.taskId !== r.taskId)
      problem(`job ${a.id}: per-job record has TaskId ${perJob.taskId}, the job ${r.taskId}`);
    if (!streamByTaskId.has(r.taskId)) problem(`job ${a.id}: TaskId ${r.taskId} is not in the stream`);
  }

  // 4: no TaskId lost, no record invented.
  // Calls whose TaskId never reached a record: the answer was lost (never sent, or nobody left to take it).
  const answerLost = new Set(ok.filter((c) => c.hung || !streamByTaskId.has(c.taskId!)));
  let unrecorded = 0;
  for (const c of answerLost) if (!c.hung && c.seq > (o.recordedFromSeq ?? 0)) unrecorded++;
  if (unrecorded > 0 && !o.unrecordedExpected) problem(`${unrecorded} TaskId(s) answered to us are not in the records`);
  for (const r of stream)
    if (!byTaskId.has(r.taskId)) problem(`recorded TaskId ${r.taskId} was never issued by the simulator`);

  // 6: duplicates. Every successful call, including answers that were lost, against every job.
  const jobsByAsset = new Map<number, AcceptedJob>();
  for (const a of [...o.accepted, ...(o.lost ?? [])]) for (const id of a.data.assetIds) jobsByAsset.set(id, a);
  const coveredBy = new Map<AcceptedJob, number>();
  const explained = new Set<AcceptedJob>();
  let duplicateCalls = 0;
  let foreign = 0;
  for (const c of ok) {
    let repeated = false;
    const jobs = new Set<AcceptedJob>();
    for (const id of c.assetIds ?? []) {
      const a = jobsByAsset.get(id);
      if (!a) foreign++;
      else if (a.data.policyItemId !== c.policyItemId || !sameType(c, a.data))
        problem(
          `call ${c.seq} sent asset ${id} with policy item ${c.policyItemId}/${c.assetType}, its job has ${a.data.policyItemId}/${a.data.assetType}`,
        );
      else jobs.add(a);
    }
    for (const a of jobs) {
      if (answerLost.has(c)) explained.add(a);
      const n = (coveredBy.get(a) ?? 0) + 1;
      coveredBy.set(a, n);
      if (n > 1) repeated = true;
    }
    if (repeated) duplicateCalls++;
  }
  if (foreign > 0) problem(`${foreign} asset(s) were sent that belong to no accepted job`);
  const duplicated = [...coveredBy.entries()].filter(([a, n]) => n > 1 && !(o.lost ?? []).includes(a)).map(([a]) => a);
  const duplicateJobs = duplicated.length;
  if (duplicateJobs > 0 && !o.duplicatesExpected)
    problem(`${duplicateJobs} job(s) were sent in more than one successful call (${duplicateCalls} repeated call(s))`);
  // Even where duplicates are expected, each must follow a lost answer: a recorded call is never repeated.
  const unexplained = duplicated.filter((a) => !explained.has(a));
  if (unexplained.length > 0)
    problem(
      `${unexplained.length} job(s) were called again although their earlier call's TaskId was recorded: ${unexplained
        .slice(0, 5)
        .map((a) => a.id)
        .join(', ')}`,
    );

  // 5: the budget, by arrival at the API.
  const worstWindow = maxInWindow(
    calls.map((c) => c.arrivalMs),
    1000,
  );
  const worst = worstWindowOf(calls, 1000);
  const stats = o.sim.stats();
  const allowed = limit + (o.windowAllowance?.extra ?? 0);
  if (worstWindow > allowed) {
    const t0 = calls[0]?.arrivalMs ?? 0;
    const detail = worst.map((c) => `+${(c.arrivalMs - t0).toFixed(0)}ms ${c.code}`).join(', ');
    problem(
      `${worstWindow} of our calls arrived within 1000 ms (limit ${limit}${o.windowAllowance ? ` + ${o.windowAllowance.extra} tolerated: ${o.windowAllowance.why}` : ''}): ${detail}`,
    );
  }

  let lostJobs: InvariantReport['lostJobs'];
  if (o.lost) lostJobs = { total: o.lost.length, calledBeforeLoss: o.lost.filter((a) => coveredBy.has(a)).length };

  const report: InvariantReport = {
    scenario: o.scenario,
    jobs: o.accepted.length,
    completed,
    failed,
    fromRecord,
    duplicateJobs,
    duplicateCalls,
    calls: calls.length,
    okCalls: ok.length,
    throttled: stats.throttled,
    hung: stats.hung,
    unrecorded,
    worstWindow,
    worstWindowWithBackground: stats.maxInAnyWindowWithBackground,
    rateLimit: limit,
    ...(lostJobs ? { lostJobs } : {}),
    ...(o.recoveryMs !== undefined ? { recoveryMs: o.recoveryMs } : {}),
    problems,
    line: '',
  };
  report.line = summaryLine(report, o);
  return report;
}

/** The calls of the fullest `windowMs` window by arrival (the first such window). */
function worstWindowOf(calls: SimulatorCall[], windowMs: number): SimulatorCall[] {
  const sorted = [...calls].sort((a, b) => a.arrivalMs - b.arrivalMs);
  let best: [number, number] = [0, 0];
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[start]!.arrivalMs <= sorted[end]!.arrivalMs - windowMs) start++;
    if (end + 1 - start > best[1] - best[0]) best = [start, end + 1];
  }
  return sorted.slice(best[0], best[1]);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** One line per scenario, for the README's "Guarantees" section. */
export function summaryLine(
  r: InvariantReport,
  o: Pick<InvariantOptions, 'recoveryWhat' | 'notes' | 'duplicatesExpected' | 'windowAllowance'> = {},
): string {
  const parts = [
    `jobs ${r.jobs}`,
    `completed ${r.completed}`,
    `failed ${r.failed}`,
    `duplicates ${r.duplicateJobs} jobs/${r.duplicateCalls} calls`,
    `worst 1-s window ${r.worstWindow}/${r.rateLimit}${r.worstWindowWithBackground > r.worstWindow ? ` (with the other consumer ${r.worstWindowWithBackground})` : ''}`,
    `recovery ${r.recoveryMs !== undefined ? `${seconds(r.recoveryMs)}${o.recoveryWhat ? ` (${o.recoveryWhat})` : ''}` : '-'}`,
    `calls ${r.calls} (OK ${r.okCalls}, throttled ${r.throttled}${r.hung ? `, unanswered ${r.hung}` : ''})`,
  ];
  if (r.fromRecord) parts.push(`from record ${r.fromRecord}`);
  if (r.unrecorded) parts.push(`answers lost ${r.unrecorded}`);
  if (r.lostJobs)
    parts.push(`lost with the queue ${r.lostJobs.total} (${r.lostJobs.calledBeforeLoss} had been called)`);
  for (const n of o.notes ?? []) parts.push(n);
  return `${r.problems.length === 0 ? 'PASS' : 'FAIL'} ${r.scenario}: ${parts.join(', ')}`;
}

/** Prints the summary line and appends it to FAULT_SUMMARY_FILE (printed again at the end of the run). */
export function recordSummary(r: InvariantReport): void {
  process.stdout.write(`\n${r.line}\n`);
  if (r.problems.length > 0) process.stdout.write(r.problems.map((p) => `  - ${p}\n`).join(''));
  const file = process.env.FAULT_SUMMARY_FILE;
  if (file) appendFileSync(file, `${r.line}\n`);
}

/** Fails the test with every problem listed (one expect, readable output). */
export function expectInvariant(r: InvariantReport): void {
  if (r.problems.length > 0)
    throw new Error(`${r.scenario}: the invariant does not hold:\n  - ${r.problems.join('\n  - ')}\n${r.line}`);
}
