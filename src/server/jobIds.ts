/**
 * The job ids this service issues, by shape. A job id becomes part of a Redis key (`bull:<queue>:<id>`),
 * so an id that was never issued can name one of BullMQ's own keys instead of a job: `meta` (a hash),
 * `events` (a stream), `id` (a string), `wait`, `active`, `marker`... Reading those as a job crashed
 * with a 500. Every route that takes a job id checks it here first and answers 404 otherwise.
 */
import type { FastifyInstance } from 'fastify';

/** Every shape of job id we issue, with where it comes from. */
export const JOB_ID_SHAPES: readonly { shape: RegExp; from: string }[] = [
  // BullMQ's counter (`bull:<queue>:id`): producer.ts, the CLI and POST /v1/rescans.
  { shape: /^[1-9]\d{0,15}$/, from: 'enqueue (BullMQ auto id)' },
  // An intake with an Idempotency-Key: `idem-<nonce>-<n>` (idempotency.ts: 12 random bytes in hex).
  { shape: /^idem-[0-9a-f]{24}-\d{1,6}$/, from: 'idempotent enqueue (idempotency.ts)' },
  // A scheduled run: `repeat:<scheduler id>:<run millis>` (schedules.ts; scheduler ids never hold ':').
  { shape: /^repeat:[A-Za-z0-9_.-]{1,100}(?:#[1-9]\d{0,5})?:\d{1,16}$/, from: 'job scheduler (schedules.ts)' },
];

/** Whether `id` has the shape of a job id we issue (it may still not exist). */
export function isIssuedJobIdShape(id: string): boolean {
  return JOB_ID_SHAPES.some(({ shape }) => shape.test(id));
}

/**
 * Answers 404 for any route of `app` (and its child scopes registered later) whose `:jobId` parameter
 * does not have an issued shape: our API and bull-board's (`/dashboard/api/queues/<q>/<jobId>`, which
 * also took `events`, `meta`... as job ids). Add it after the auth hook, so strangers still get 401.
 */
export function guardJobIds(app: FastifyInstance): void {
  app.addHook('onRequest', (req, reply, done) => {
    // Path parameters are strings (the router's, from the URL).
    const jobId = (req.params as { jobId?: string } | undefined)?.jobId;
    if (jobId === undefined || isIssuedJobIdShape(jobId)) return done();
    const shown = JSON.stringify(jobId);
    reply.code(404).send({
      error: `no job ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}: not a job id this service issues`,
      code: 'NO_SUCH_JOB',
    });
  });
}
