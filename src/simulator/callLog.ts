/**
 * What the simulator saw, for read-back: every TCSS call in order of arrival, the STS calls apart,
 * and the requests dropped while `unreachable`. Both logs are capped (`maxCalls`), so memory stays
 * bounded however long it runs.
 */
import { STS_ACTIONS } from './sts';

/** One API request as the simulator saw it (background arrivals are not calls). */
export interface SimulatorCall {
  /** 1-based, in order of arrival; not reset by `reset()`. */
  seq: number;
  /** Arrival time in ms (`performance.timeOrigin + performance.now()`), taken on the 'request' event. */
  arrivalMs: number;
  /** SecretId from the Authorization header (as claimed when auth failed; '' when unreadable). */
  secretId: string;
  /** The rate-limit principal (`uin:<sub-account>` or `role:<owner>/<roleId>`) once authenticated; '' before. */
  principal: string;
  /** X-TC-Action as sent ('' when missing). */
  action: string;
  policyItemId?: number;
  assetIds?: number[];
  assetType?: string;
  /** 'OK' or the Tencent error code answered. */
  code: string;
  /** The error message, for errors. */
  message?: string;
  taskId?: number;
  requestId: string;
  /** Passed the rate limit, so it spent budget (whatever its final code). */
  admitted: boolean;
  /** Never answered (hangRate). */
  hung: boolean;
}

export class CallLog {
  private tcss: SimulatorCall[] = [];
  private sts: SimulatorCall[] = [];
  private next = 1;
  private droppedCount = 0;

  constructor(private readonly maxCalls: number) {}

  /** The next call's seq (taken when the request arrives, before its body is read). */
  nextSeq(): number {
    return this.next++;
  }

  record(call: SimulatorCall): void {
    if (STS_ACTIONS.has(call.action)) {
      this.sts.push(call);
      this.cap(this.sts);
      return;
    }
    const log = this.tcss;
    log.push(call);
    this.cap(log);
    // Calls are decided once their body is in, so a slow body can finish after a later arrival.
    for (let i = log.length - 1; i > 0 && (log[i - 1] as SimulatorCall).seq > call.seq; i--) {
      log[i] = log[i - 1] as SimulatorCall;
      log[i - 1] = call;
    }
  }

  /** A request whose socket was destroyed because `unreachable` was on (not a call). */
  countDropped(): void {
    this.droppedCount++;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  /** The TCSS calls as kept, in seq order (not copies: for the stats). */
  get kept(): readonly SimulatorCall[] {
    return this.tcss;
  }

  /** Copies of the TCSS calls with `seq > sinceSeq`, in seq order. */
  calls(sinceSeq: number): SimulatorCall[] {
    return this.tcss.filter((c) => c.seq > sinceSeq).map((c) => ({ ...c }));
  }

  stsCalls(): SimulatorCall[] {
    return this.sts.map((c) => ({ ...c }));
  }

  /** Empties both logs and the dropped count; seq keeps counting. */
  reset(): void {
    this.tcss = [];
    this.sts = [];
    this.droppedCount = 0;
  }

  /** Keeps at most maxCalls (the oldest go first, in batches so that a push stays cheap). */
  private cap(calls: SimulatorCall[]): void {
    if (calls.length > this.maxCalls) calls.splice(0, calls.length - this.maxCalls + Math.ceil(this.maxCalls / 10));
  }
}
