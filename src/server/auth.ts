/**
 * Access to the dashboard, the API and /metrics: HTTP basic auth (SERVER_USER / SERVER_PASSWORD, what a
 * browser asks for) or a bearer token (SERVER_API_TOKEN, for machines). Both compared in constant time.
 * /healthz and /readyz stay open for probes. Parsing and the 401 challenge come from @fastify/basic-auth.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import fastifyBasicAuth from '@fastify/basic-auth';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config';

/** Constant-time string comparison (hashing first, so the lengths do not leak either). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Registers an `onRequest` guard on `app` (call it inside the scope that should be protected). */
export async function protect(app: FastifyInstance, server: ServerConfig): Promise<void> {
  if (!server.authEnabled) return;
  await app.register(fastifyBasicAuth, {
    authenticate: { realm: 'tcss-rescan' },
    validate: async (user: string, password: string) => {
      const userOk = safeEqual(user, server.user);
      const passwordOk = server.password !== undefined && safeEqual(password, server.password);
      if (!(userOk && passwordOk)) throw new Error('Unauthorized');
    },
  });
  app.addHook('onRequest', (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => {
    const header = req.headers.authorization ?? '';
    if (/^Bearer\s/i.test(header)) {
      const token = header.replace(/^Bearer\s+/i, '').trim();
      if (server.apiToken !== undefined && safeEqual(token, server.apiToken)) return done();
      reply.code(401).header('WWW-Authenticate', 'Bearer realm="tcss-rescan"').send({ error: 'invalid bearer token' });
      return;
    }
    app.basicAuth(req, reply, done);
  });
}
