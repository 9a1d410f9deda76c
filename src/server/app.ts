/**
 * One HTTP server (Fastify): the queue dashboard (bull-board) at /dashboard, the rescan API under /v1,
 * Prometheus metrics at /metrics, and /healthz, /readyz for probes. Everything but the probes needs
 * credentials (see auth.ts). Request bodies are limited to SERVER_BODY_LIMIT_BYTES.
 */
import { createBullBoard } from '@bull-board/api';
import { FastifyAdapter } from '@bull-board/fastify';
import fastifyHelmet from '@fastify/helmet';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { ValidationError } from '../job';
import type { Logger } from '../logger';
import { readBudgetRate } from '../budget';
import type { RescanProducer } from '../producer';
import { DEFAULT_RECORD_LIST_LIMIT } from '../records';
import type { RedisSettingsReport } from '../redisSettings';
import { budgetIdFrom } from '../tcss/scanBudget';
import { recordStoreFrom } from '../wiring';
import { createCredentials } from '../tcss/credentials';
import { learnBudgetIdentity } from '../tcss/identity';
import { protect } from './auth';
import { isValidCursor } from './cursor';
import { inexactProblems, registerExactJsonParser } from './exactBody';
import { IntakeGate } from './intakeGate';
import { acceptLoopbackHostOnly } from './hostCheck';
import { guardJobIds, isIssuedJobIdShape } from './jobIds';
import { LoginLimiter } from './loginLimit';
import { capProblems } from './problems';
import { readiness } from './readiness';
import { SECURITY_HEADERS } from './securityHeaders';
import { errorReply } from './errorReply';
import { dashboardAdapter } from './dashboardJobs';
import { registerApiDocs, registerOpenApi } from './openapi';
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
  // Typed as fastify's logger (a pino child is one), so that the app is the plain FastifyInstance type.
  const httpLogger: FastifyBaseLogger = deps.logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: httpLogger,
    bodyLimit: cfg.server.bodyLimitBytes,
    // Per-request logs would drown the workers' (scrapes, dashboard polling); errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
  });
  const records = recordStoreFrom(cfg, redis);
  // The workers' budget is keyed by the caller identity (tcss/identity.ts): learned here the same way,
  // once, on the first scrape. Without credentials of any kind there is no budget to show.
  const hasCredentials = cfg.tcss.credentials !== undefined || !['env', 'demo'].includes(cfg.tcss.credentialSource);
  let budgetKey: Promise<string> | undefined;
  const currentBudgetId = () =>
    (budgetKey ??= learnBudgetIdentity(cfg.tcss, createCredentials(cfg.tcss), deps.logger).then((id) => budgetIdFrom(cfg, id.key)));
  const registry = createPromRegistry({
    queue: producer.queue,
    redis,
    ...(hasCredentials ? { currentRate: async () => readBudgetRate(redis, await currentBudgetId(), cfg.tcss.rateLimit) } : {}),
  });

  // Before any route: the OpenAPI description is built from the routes as they are added.
  await registerOpenApi(app);
  // Before any route or scope is registered, so that every scope inherits it.
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    const r = errorReply(err);
    if (r.status === 503) deps.logger.warn({ err }, 'http: Redis unavailable');
    else if (r.status >= 500) deps.logger.error({ err }, 'http error');
    reply.code(r.status).headers(r.headers).send(r.body);
  });
  // JSON bodies are parsed exactly: no number is rounded to another id, no key is named twice.
  registerExactJsonParser(app);
  // With auth off (loopback only), refuse other Host names: no DNS rebinding (hostCheck.ts).
  if (!cfg.server.authEnabled) acceptLoopbackHostOnly(app);
  // Security headers on every answer, the dashboard's included (securityHeaders.ts).
  await app.register(fastifyHelmet, SECURITY_HEADERS);

  // Open: liveness and readiness (a status and a reason code only; details behind login below).
  app.get('/healthz', (_req, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const r = await readiness(producer.queue, redis);
    // Wrong Redis settings do not make us unready (the queue works), but the probe says what was found,
    // as short codes: the settings' names; their values, the fixes and notes are behind login.
    const s = deps.redisSettings;
    const settings = s ? { redisSettings: { checked: s.checked, ...(s.persistence ? { persistence: s.persistence } : {}), problems: s.problems.map((p) => p.setting) } } : {};
    return reply.code(r.ready ? 200 : 503).send(r.ready ? { status: 'ready', ...settings } : { status: 'not ready', reason: r.reason, ...settings });
  });

  // Everything else needs credentials.
  await app.register(async (scope) => {
    await protect(scope, cfg.server, new LoginLimiter(redis, cfg.queueName, deps.logger.child({ component: 'auth' }), cfg.server.loginMaxFailures, cfg.server.loginWindowSeconds));
    // A :jobId that we never issue could name one of BullMQ's own keys (jobIds.ts): 404 before any route.
    guardJobIds(scope);
    // Everything here reads or writes Redis: when it is unavailable, answer 503 at once (bounded by
    // PRODUCER_TIMEOUT_MS) rather than holding the request until it returns.
    scope.addHook('preHandler', async (req) => producer.ready(req.method === 'GET' || req.method === 'HEAD' ? 'nothing was read' : req.url.startsWith('/v1/rescans') ? 'nothing was enqueued' : 'nothing was changed'));
    await registerApiDocs(scope);

    scope.get('/v1/readiness', async (_req, reply) => {
      const r = await readiness(producer.queue, redis);
      const settings = deps.redisSettings ? { redisSettings: deps.redisSettings } : {};
      return reply.code(r.ready ? 200 : 503).send(r.ready ? { status: 'ready', ...settings } : { status: 'not ready', reason: r.reason, detail: r.detail, ...(r.pausedWorkers ? { pausedWorkers: r.pausedWorkers } : {}), ...settings });
    });

    // One bulk intake at a time: the others wait without reading their bodies (intakeGate.ts).
    const intake = new IntakeGate(1);
    scope.post('/v1/rescans', intake.hooks(), async (req, reply) => {
      const body = req.body;
      const requests = Array.isArray(body) ? body : [body];
      if (requests.length === 0) return reply.code(400).send({ error: 'no rescans in the request', problems: ['the array is empty'] });
      if (requests.length > MAX_RESCANS_PER_REQUEST) {
        return reply.code(400).send({ error: 'too many rescans', problems: [`at most ${MAX_RESCANS_PER_REQUEST} rescans per request, got ${requests.length}`] });
      }
      // Numbers that JSON.parse would have rounded to another id (exactBody.ts): named, never enqueued.
      const inexact = inexactProblems(body);
      const idempotencyKey = req.headers['idempotency-key'];
      try {
        if (inexact.length > 0) throw new ValidationError(inexact);
        const res = await producer.enqueueMany(requests, typeof idempotencyKey === 'string' ? { idempotencyKey } : {});
        return reply.code(202).send({ jobIds: res.jobIds, batchIds: res.batchIds });
      } catch (err) {
        if (err instanceof ValidationError) return reply.code(400).send({ error: 'invalid rescan request: nothing was enqueued', ...capProblems(err.problems) });
        throw err;
      }
    });

    scope.get<{ Params: { jobId: string } }>('/v1/rescans/:jobId', async (req, reply) => {
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

    scope.get<{ Querystring: { policyItemId?: string; limit?: string; cursor?: string } }>('/v1/tasks', async (req, reply) => {
      const q = req.query;
      const problems: string[] = [];
      // Plain digits only: Number() would take "1e3", "0x10" and round "1.0000000000000001" to 1.
      const policyItemId = q.policyItemId === undefined ? undefined : typeof q.policyItemId === 'string' && /^[1-9]\d{0,15}$/.test(q.policyItemId) ? Number(q.policyItemId) : NaN;
      if (policyItemId !== undefined && !Number.isSafeInteger(policyItemId)) problems.push(`policyItemId must be a positive whole number no larger than 2^53-1 in plain digits, got ${shorten(q.policyItemId)}`);
      const limit = q.limit === undefined ? DEFAULT_RECORD_LIST_LIMIT : typeof q.limit === 'string' && /^[1-9]\d{0,3}$/.test(q.limit) ? Number(q.limit) : NaN;
      if (!(Number.isInteger(limit) && limit >= 1 && limit <= 1000)) problems.push(`limit must be a whole number from 1 to 1000, got ${shorten(q.limit)}`);
      if (q.cursor !== undefined && !(typeof q.cursor === 'string' && isValidCursor(q.cursor))) problems.push(`cursor must be a value of "next" from a previous page, got ${shorten(q.cursor)}`);
      if (problems.length > 0) return reply.code(400).send({ error: 'invalid query', ...capProblems(problems) });
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
      queues: [dashboardAdapter(producer.queue, cfg.server.dashboardReadOnly)],
      serverAdapter: board,
      options: { uiConfig: { boardTitle: 'tcss-rescan' } },
    });
    await scope.register(board.registerPlugin(), { prefix: '/dashboard' });
  });

  return app;
}

/** A query value quoted for an error message, shortened (a hostile one can be long). */
function shorten(v: unknown): string {
  const s = JSON.stringify(v) ?? 'nothing';
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
