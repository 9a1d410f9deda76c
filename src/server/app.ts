/**
 * One HTTP server (Fastify): the queue dashboard (bull-board) at /dashboard, the rescan API under /v1,
 * Prometheus metrics at /metrics, and /healthz, /readyz for probes. Everything but the probes needs
 * credentials (see auth.ts). Request bodies are limited to SERVER_BODY_LIMIT_BYTES.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { ValidationError } from '../job';
import type { Logger } from '../logger';
import { budgetId, readBudgetRate } from '../limiter';
import type { RescanProducer } from '../producer';
import { RecordStore } from '../records';
import type { RedisSettingsReport } from '../redisSettings';
import { queueStatus } from '../status';
import { SCAN_ACTION } from '../tcss/client';
import { protect } from './auth';
import { createPromRegistry } from './promMetrics';

export interface ServerDeps {
  config: Config;
  logger: Logger;
  producer: RescanProducer;
  redis: Redis;
  /** What the start-up check found about the Redis settings (src/redisSettings.ts); shown by /readyz. */
  redisSettings?: RedisSettingsReport;
}

/** Most rescans accepted in one POST. */
export const MAX_RESCANS_PER_REQUEST = 10_000;

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config: cfg, producer, redis } = deps;
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: cfg.server.bodyLimitBytes,
    // Per-request logs would drown the workers' (scrapes, dashboard polling); errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const records = new RecordStore(redis, { queueName: cfg.queueName, maxLen: cfg.recordsMaxLen, ttlSeconds: cfg.recordTtlSeconds });
  const creds = cfg.tcss.credentials;
  const registry = createPromRegistry({
    queue: producer.queue,
    redis,
    ...(creds ? { currentRate: () => readBudgetRate(redis, budgetId(creds.secretId, cfg.tcss.endpoint.host, SCAN_ACTION), cfg.tcss.rateLimit) } : {}),
  });

  // Before any route or scope is registered, so that every scope inherits it.
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 500) deps.logger.error({ err }, 'http error');
    // Oversized or malformed bodies are the client's fault: say what was wrong, not a stack.
    reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message, ...(err.code ? { code: err.code } : {}) });
  });
  // JSON bodies: plain JSON.parse, whose `__proto__` is an ordinary own key (it never touches a
  // prototype), so the contract's validation names it as an unknown field; Fastify's default parser
  // would refuse such a body as "not valid JSON" without saying why. Syntax errors say where.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(Object.assign(new Error(`the body is not valid JSON: ${(err as Error).message}`), { statusCode: 400, code: 'INVALID_JSON' }), undefined);
    }
  });
  // Open: liveness and readiness.
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await redis.ping();
    } catch (err) {
      return reply.code(503).send({ status: 'unavailable', reason: `Redis unreachable: ${(err as Error).message}` });
    }
    const { pausedWorkers } = await queueStatus(producer.queue, redis);
    // Wrong settings do not make us unready (the queue works), but the probe shows them and the fix.
    const settings = deps.redisSettings
      ? { redisSettings: { checked: deps.redisSettings.checked, persistence: deps.redisSettings.persistence, problems: deps.redisSettings.problems, note: deps.redisSettings.note } }
      : {};
    const paused = Object.entries(pausedWorkers);
    if (paused.length > 0) {
      return reply.code(503).send({
        status: 'paused',
        reason: `${paused.length} worker(s) stopped taking jobs: the API refused the credentials (${paused[0]![1].code}); fix TENCENTCLOUD_SECRET_ID/KEY and restart them`,
        pausedWorkers,
        ...settings,
      });
    }
    return { status: 'ready', ...settings };
  });

  // Everything else needs credentials.
  await app.register(async (scope) => {
    await protect(scope, cfg.server);

    scope.post('/v1/rescans', async (req, reply) => {
      const body = req.body;
      const requests = Array.isArray(body) ? body : [body];
      if (requests.length === 0) return reply.code(400).send({ error: 'no rescans in the request', problems: ['the array is empty'] });
      if (requests.length > MAX_RESCANS_PER_REQUEST) {
        return reply.code(400).send({ error: 'too many rescans', problems: [`at most ${MAX_RESCANS_PER_REQUEST} rescans per request, got ${requests.length}`] });
      }
      try {
        const res = await producer.enqueueMany(requests);
        return reply.code(202).send({ jobIds: res.jobIds, batchIds: res.batchIds });
      } catch (err) {
        if (err instanceof ValidationError) return reply.code(400).send({ error: 'invalid rescan request: nothing was enqueued', problems: err.problems });
        throw err;
      }
    });

    scope.get<{ Params: { jobId: string } }>('/v1/rescans/:jobId', async (req, reply) => {
      const job = await producer.queue.getJob(req.params.jobId);
      if (!job) return reply.code(404).send({ error: `no job ${req.params.jobId} on queue ${cfg.queueName}` });
      const state = await job.getState();
      const result = job.returnvalue as { taskId?: number; requestId?: string } | null | undefined;
      return {
        jobId: job.id,
        state,
        attempts: job.attemptsMade,
        data: job.data,
        taskId: result?.taskId ?? null,
        requestId: result?.requestId ?? null,
        result: result ?? null,
        lastError: job.failedReason || null,
        createdAt: new Date(job.timestamp).toISOString(),
        finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
      };
    });

    scope.get<{ Querystring: { policyItemId?: string; limit?: string; cursor?: string } }>('/v1/tasks', async (req, reply) => {
      const q = req.query;
      const problems: string[] = [];
      const policyItemId = q.policyItemId === undefined ? undefined : Number(q.policyItemId);
      if (policyItemId !== undefined && !(Number.isSafeInteger(policyItemId) && policyItemId > 0)) problems.push(`policyItemId must be a positive whole number, got ${JSON.stringify(q.policyItemId)}`);
      const limit = q.limit === undefined ? 50 : Number(q.limit);
      if (!(Number.isInteger(limit) && limit >= 1 && limit <= 1000)) problems.push(`limit must be a whole number from 1 to 1000, got ${JSON.stringify(q.limit)}`);
      if (q.cursor !== undefined && !/^\d+-\d+$/.test(q.cursor)) problems.push(`cursor must be a value of "next" from a previous page, got ${JSON.stringify(q.cursor)}`);
      if (problems.length > 0) return reply.code(400).send({ error: 'invalid query', problems });
      const page = await records.list({ limit, ...(policyItemId !== undefined ? { policyItemId } : {}), ...(q.cursor !== undefined ? { before: q.cursor } : {}) });
      return { tasks: page.records, next: page.next ?? null };
    });

    scope.get('/metrics', async (_req, reply) => {
      reply.header('Content-Type', registry.contentType);
      return registry.metrics();
    });

    const board = new FastifyAdapter();
    board.setBasePath('/dashboard');
    createBullBoard({
      queues: [new BullMQAdapter(producer.queue, { readOnlyMode: cfg.server.dashboardReadOnly, description: 'ScanComplianceAssetsByPolicyItem rescans; a completed job shows its TaskId in its return value' })],
      serverAdapter: board,
      options: { uiConfig: { boardTitle: 'tcss-rescan' } },
    });
    await scope.register(board.registerPlugin(), { prefix: '/dashboard' });
  });

  return app;
}
