/**
 * The probes: GET /healthz and /readyz, open (a status and a reason code only), and GET /v1/readiness,
 * the same check with its details, behind login (registered in the protected area, protected.ts).
 */
import type { FastifyPluginAsync } from 'fastify';
import type { ServerDeps } from '../deps';
import { readiness } from '../readiness';

/** Open: liveness and readiness, without details. */
export const openProbes: FastifyPluginAsync<ServerDeps> = (app, deps) => {
  const { producer, redis } = deps;
  app.get('/healthz', (_req, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const r = await readiness(producer.queue, redis);
    // Wrong Redis settings do not make us unready (the queue works), but the probe says what was found,
    // as short codes: the settings' names; their values, the fixes and notes are behind login.
    const s = deps.redisSettings;
    const settings = s
      ? {
          redisSettings: {
            checked: s.checked,
            ...(s.persistence ? { persistence: s.persistence } : {}),
            problems: s.problems.map((p) => p.setting),
          },
        }
      : {};
    return reply
      .code(r.ready ? 200 : 503)
      .send(r.ready ? { status: 'ready', ...settings } : { status: 'not ready', reason: r.reason, ...settings });
  });
  return Promise.resolve();
};

/** Behind login: readiness with its detail, the paused workers and the Redis settings report. */
export const detailedReadiness: FastifyPluginAsync<ServerDeps> = (app, deps) => {
  const { producer, redis } = deps;
  app.get('/v1/readiness', async (_req, reply) => {
    const r = await readiness(producer.queue, redis);
    const settings = deps.redisSettings ? { redisSettings: deps.redisSettings } : {};
    return reply.code(r.ready ? 200 : 503).send(
      r.ready
        ? { status: 'ready', ...settings }
        : {
            status: 'not ready',
            reason: r.reason,
            detail: r.detail,
            ...(r.pausedWorkers ? { pausedWorkers: r.pausedWorkers } : {}),
            ...settings,
          },
    );
  });
  return Promise.resolve();
};
