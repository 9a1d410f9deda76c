/**
 * The worker, one entry point for the rest of the service:
 *
 *   rescanWorker.ts  RescanWorker: lifecycle (start, pause, close) and the processor (job -> record)
 *   groupCall.ts     one call for a group of jobs: budget, throttles, record, bisect of a refused merge
 *   workerPause.ts   the pause in this process (the record in Redis is ../pause.ts)
 *   bullOptions.ts   how BullMQ runs our jobs: locks, stalled checks, attempts, backoff
 */
export { RescanWorker, type RescanWorkerOptions } from './rescanWorker';
export { LOCK_DURATION_MS, LOCK_RENEW_MS, STALLED_INTERVAL_MS } from './bullOptions';
