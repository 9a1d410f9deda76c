/**
 * A worker's pause, in its process: once the API answers a code that would fail every job (the error
 * table's `pause`), the worker stops taking jobs, groups still waiting for the budget leave at once,
 * calls not yet sent are not sent, and every job goes back to the queue untouched. The record that
 * tells `status` and /readyz is pause.ts's.
 */
import type { Logger } from '../logger';
import type { PauseInfo, PauseRecord } from '../pause';
import type { TcssApiError } from '../tcss/client';
import { pauseAdviceFor } from '../tcss/errorTable';

/** Thrown to every member of a group when the worker paused: each job goes back. */
export class PausedSignal extends Error {
  override readonly name = 'PausedSignal';
}

export class WorkerPause {
  private info: PauseInfo | undefined;
  /** Rejects with PausedSignal when the worker pauses: groups still waiting for the budget leave at once. */
  readonly gate: Promise<never>;
  private release: (signal: PausedSignal) => void = () => undefined;

  constructor(
    private readonly record: PauseRecord,
    private readonly log: Logger,
    private readonly workerId: string,
    /** Stops the worker taking jobs (BullMQ's pause, not waiting for active jobs). */
    private readonly stopTaking: () => void,
  ) {
    this.gate = new Promise<never>((_, reject) => (this.release = reject));
    this.gate.catch(() => undefined);
  }

  /** Why this worker stopped taking jobs, if it did. */
  get reason(): PauseInfo | undefined {
    return this.info;
  }

  /** Stops taking jobs for a code that would fail every job (the table's `pause`), and says why. */
  async pause(err: TcssApiError): Promise<void> {
    if (this.info) return;
    const now = new Date().toISOString();
    this.info = {
      code: err.code,
      message: err.message,
      ...(err.requestId ? { requestId: err.requestId } : {}),
      at: now,
      seenAt: now,
    };
    this.log.fatal(
      { code: err.code, requestId: err.requestId, workerId: this.workerId, apiMessage: err.message },
      pauseAdviceFor(err.code),
    );
    this.release(new PausedSignal());
    // Say so in Redis for `status` and /readyz, and keep saying it while this process lives.
    await this.record.publish(this.info);
    // Do not wait for active jobs: the job that met the code is one of them.
    this.stopTaking();
  }

  /** The worker is closing: its entry goes (a closed worker is not paused, it is gone). */
  clear(): Promise<void> {
    return this.record.clear();
  }
}
