/**
 * A BullMQ Worker that survives job data it cannot read. BullMQ builds each job with
 * `JSON.parse(data)`; data that is not JSON (written by another client straight into Redis) throws
 * there, before our processor runs, so the job would sit in `active` until the stalled-job check moves
 * it back, again and again. Here such a job is built with an `UnreadableJobData` marker instead, which
 * the processor refuses at once (job.ts: the contract), so it fails with its reason and never spends an
 * API call.
 */
import { Worker, type Job, type JobJson } from 'bullmq';

/** The data of a job whose stored data is not JSON: what was stored (shortened) and the parser's reason. */
export class UnreadableJobData {
  constructor(
    readonly reason: string,
    readonly start: string,
  ) {}
}

const SHOWN = 60;

export class ContractWorker<R> extends Worker<unknown, R> {
  protected override createJob(data: JobJson, jobId: string): Job<unknown, R> {
    try {
      return super.createJob(data, jobId);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      const job = super.createJob({ ...data, data: '{}' }, jobId);
      const raw = String(data.data);
      job.data = new UnreadableJobData(err.message, raw.length > SHOWN ? `${raw.slice(0, SHOWN)}...` : raw);
      return job;
    }
  }
}
