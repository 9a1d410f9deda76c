/**
 * Access to the dashboard, the API and /metrics: HTTP basic auth (SERVER_USER / SERVER_PASSWORD, what a
 * browser asks for) or a bearer token (SERVER_API_TOKEN, for machines). Both compared in constant time.
 * /healthz and /readyz stay open for probes. Parsing and the 401 challenge come from @fastify/basic-auth.
 * Failed logins are counted per client address and logged (loginLimit.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import fastifyBasicAuth from '@fastify/basic-auth';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config';
import type { LoginLimiter } from './loginLimit';

/** Constant-time string comparison (hashing first, so the lengths do not leak either). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Registers an `onRequest` guard on `app` (call it inside the scope that should be protected). */
export async function protect(app: FastifyInstance, server: ServerConfig, limiter: LoginLimiter): Promise<void> {
  if (!server.authEnabled) return;
  await app.register(fastifyBasicAuth, {
    authenticate: { realm: 'tcss-rescan' },
    validate: async (user: string, password: string, req: FastifyRequest) => {
      const userOk = safeEqual(user, server.user);
      const passwordOk = server.password !== undefined && safeEqual(password, server.password);
      if (userOk && passwordOk) return;
      await limiter.fail({ address: req.ip, scheme: 'basic', knownUser: userOk });
      throw new Error('Unauthorized');
    },
  });
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    // No credentials at all is a browser's first request, not a guess: it only gets the challenge.
    if (header !== undefined) {
      const wait = await limiter.blockedFor(req.ip);
      if (wait !== undefined) {
        return reply
          .code(429)
          .header('Retry-After', String(wait))
          .send({ error: `too many failed logins from this address; try again in ${wait} s`, code: 'LOGIN_LIMITED' });
      }
    }
    if (header !== undefined && /^Bearer\s/i.test(header)) {
      const token = header.replace(/^Bearer\s+/i, '').trim();
      if (server.apiToken !== undefined && safeEqual(token, server.apiToken)) return;
      await limiter.fail({ address: req.ip, scheme: 'bearer' });
      return reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer realm="tcss-rescan"')
        .send({ error: 'invalid bearer token' });
    }
    await new Promise<void>((resolve, reject) =>
      app.basicAuth(req, reply, (err?: Error) => (err ? reject(err) : resolve())),
    );
  });
}
