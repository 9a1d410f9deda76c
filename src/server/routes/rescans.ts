/**
 * The rescan intake and its jobs: POST /v1/rescans (one rescan or an array, enqueued all or none) and
 * GET /v1/rescans/:jobId (a job's state and result).
 */
import type { FastifyPluginAsync } from 'fastify';
import { ValidationError } from '../../job';
import type { ServerDeps } from '../deps';
import { inexactProblems } from '../exactBody';
import { IntakeGate } from '../intakeGate';
import { isIssuedJobIdShape } from '../jobIds';
import { capProblems } from '../problems';

/** Most rescans accepted in one POST. */
export const MAX_RESCANS_PER_REQUEST = 10_000;

export const rescanRoutes: FastifyPluginAsync<ServerDeps> = (app, { config: cfg, producer }) => {
  // One bulk intake at a time: the others wait without reading their bodies (intakeGate.ts).
  const intake = new IntakeGate(1);
  app.post('/v1/rescans', intake.hooks(), async (req, reply) => {
    const body = req.body;
    const requests = Array.isArray(body) ? body : [body];
    if (requests.length === 0)
      return reply.code(400).send({ error: 'no rescans in the request', problems: ['the array is empty'] });
    if (requests.length > MAX_RESCANS_PER_REQUEST) {
      return reply.code(400).send({
        error: 'too many rescans',
        problems: [`at most ${MAX_RESCANS_PER_REQUEST} rescans per request, got ${requests.length}`],
      });
    }
    // Numbers that JSON.parse would have rounded to another id (exactBody.ts): named, never enqueued.
    const inexact = inexactProblems(body);
    const idempotencyKey = req.headers['idempotency-key'];
    try {
      if (inexact.length > 0) throw new ValidationError(inexact);
      const res = await producer.enqueueMany(requests, typeof idempotencyKey === 'string' ? { idempotencyKey } : {});
      return reply.code(202).send({ jobIds: res.jobIds, batchIds: res.batchIds });
    } catch (err) {
      if (err instanceof ValidationError)
        return reply
          .code(400)
          .send({ error: 'invalid rescan request: nothing was enqueued', ...capProblems(err.problems) });
      throw err;
    }
  });

  app.get<{ Params: { jobId: string } }>('/v1/rescans/:jobId', async (req, reply) => {
    const job = isIssuedJobIdShape(req.params.jobId) ? await producer.queue.getJob(req.params.jobId) : undefined;
    if (!job) return reply.code(404).send({ error: `no job ${req.params.jobId} on queue ${cfg.queueName}` });
    const state = await job.getState();
    const result = job.returnvalue as { taskId?: number | string; requestId?: string } | null | undefined;
    return {
      jobId: job.id,
      state,
      attempts: job.attemptsMade,
      data: job.data as unknown,
      taskId: result?.taskId ?? null,
      requestId: result?.requestId ?? null,
      result: result ?? null,
      lastError: job.failedReason || null,
      createdAt: new Date(job.timestamp).toISOString(),
      finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    };
  });
  return Promise.resolve();
};
