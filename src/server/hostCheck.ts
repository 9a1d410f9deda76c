/**
 * With SERVER_AUTH=off the server listens on loopback only (config.ts), but a web page the operator
 * visits could still reach it through DNS rebinding: its own host name, re-pointed at 127.0.0.1. The
 * browser then sends that name as `Host`. Accepting only loopback `Host` values closes that door.
 */
import type { FastifyInstance } from 'fastify';

/** `localhost`, `127.x.y.z` or `[::1]`, with or without a port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const m = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(?::\d{1,5})?$/i.exec(host);
  return m !== null;
}

/** Refuses (421 Misdirected Request) every request whose `Host` is not a loopback name. */
export function acceptLoopbackHostOnly(app: FastifyInstance): void {
  app.addHook('onRequest', (req, reply, done) => {
    if (isLoopbackHost(req.headers.host)) return done();
    reply.code(421).send({
      error: 'with SERVER_AUTH=off only loopback Host values (localhost, 127.0.0.1, [::1]) are accepted',
      code: 'HOST_NOT_LOOPBACK',
    });
  });
}
