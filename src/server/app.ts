/**
 * One HTTP server (Fastify): the queue dashboard (bull-board) at /dashboard, the rescan API under /v1,
 * Prometheus metrics at /metrics, and /healthz, /readyz for probes. Everything but the probes needs
 * credentials (see auth.ts). Request bodies are limited to SERVER_BODY_LIMIT_BYTES.
 *
 * This file sets up what applies to every route (error replies, body parsing, host check, security
 * headers, the OpenAPI generator); the routes are plugins, one file per area, in routes/.
 */
import fastifyHelmet from '@fastify/helmet';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ServerDeps } from './deps';
import { errorReply } from './errorReply';
import { registerExactJsonParser } from './exactBody';
import { acceptLoopbackHostOnly } from './hostCheck';
import { registerOpenApi } from './openapi';
import { openProbes } from './routes/probes';
import { protectedArea } from './routes/protected';
import { SECURITY_HEADERS } from './securityHeaders';

export type { ServerDeps } from './deps';
export { MAX_RESCANS_PER_REQUEST } from './routes/rescans';

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const cfg = deps.config;
  // Typed as fastify's logger (a pino child is one), so that the app is the plain FastifyInstance type.
  const httpLogger: FastifyBaseLogger = deps.logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: httpLogger,
    bodyLimit: cfg.server.bodyLimitBytes,
    // Per-request logs would drown the workers' (scrapes, dashboard polling); errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
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

  // Open: liveness and readiness (a status and a reason code only; details behind login).
  await app.register(openProbes, deps);
  // Everything else needs credentials.
  await app.register(protectedArea, deps);
  return app;
}
