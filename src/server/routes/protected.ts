/**
 * Everything but the open probes, behind credentials (auth.ts): the API docs, the /v1 API, /metrics and
 * the dashboard. One scope, so that its hooks (login, job id guard, Redis check) apply to all of them and
 * to nothing outside.
 */
import type { FastifyPluginAsync } from 'fastify';
import { protect } from '../auth';
import type { ServerDeps } from '../deps';
import { guardJobIds } from '../jobIds';
import { LoginLimiter } from '../loginLimit';
import { registerApiDocs } from '../openapi';
import { dashboard } from './dashboard';
import { metricsRoute } from './metrics';
import { detailedReadiness } from './probes';
import { rescanRoutes } from './rescans';
import { taskRoutes } from './tasks';

export const protectedArea: FastifyPluginAsync<ServerDeps> = async (scope, deps) => {
  const { config: cfg, producer, redis } = deps;
  await protect(
    scope,
    cfg.server,
    new LoginLimiter(
      redis,
      cfg.queueName,
      deps.logger.child({ component: 'auth' }),
      cfg.server.loginMaxFailures,
      cfg.server.loginWindowSeconds,
    ),
  );
  // A :jobId that we never issue could name one of BullMQ's own keys (jobIds.ts): 404 before any route.
  guardJobIds(scope);
  // Everything here reads or writes Redis: when it is unavailable, answer 503 at once (bounded by
  // PRODUCER_TIMEOUT_MS) rather than holding the request until it returns.
  scope.addHook('preHandler', async (req) =>
    producer.ready(
      req.method === 'GET' || req.method === 'HEAD'
        ? 'nothing was read'
        : req.url.startsWith('/v1/rescans')
          ? 'nothing was enqueued'
          : 'nothing was changed',
    ),
  );
  await registerApiDocs(scope);

  // In this order: the OpenAPI document lists the routes as they are added.
  await scope.register(detailedReadiness, deps);
  await scope.register(rescanRoutes, deps);
  await scope.register(taskRoutes, deps);
  await scope.register(metricsRoute, deps);
  await scope.register(dashboard, deps);
};
