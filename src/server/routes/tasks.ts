/** The recorded TaskIds: GET /v1/tasks, newest first, by page (a cursor), optionally for one policy item. */
import type { FastifyPluginAsync } from 'fastify';
import { DEFAULT_RECORD_LIST_LIMIT } from '../../records';
import { recordStoreFrom } from '../../wiring';
import { isValidCursor } from '../cursor';
import type { ServerDeps } from '../deps';
import { capProblems } from '../problems';

export const taskRoutes: FastifyPluginAsync<ServerDeps> = (app, { config: cfg, redis }) => {
  const records = recordStoreFrom(cfg, redis);
  app.get<{ Querystring: { policyItemId?: string; limit?: string; cursor?: string } }>(
    '/v1/tasks',
    async (req, reply) => {
      const q = req.query;
      const problems: string[] = [];
      // Plain digits only: Number() would take "1e3", "0x10" and round "1.0000000000000001" to 1.
      const policyItemId =
        q.policyItemId === undefined
          ? undefined
          : typeof q.policyItemId === 'string' && /^[1-9]\d{0,15}$/.test(q.policyItemId)
            ? Number(q.policyItemId)
            : NaN;
      if (policyItemId !== undefined && !Number.isSafeInteger(policyItemId))
        problems.push(
          `policyItemId must be a positive whole number no larger than 2^53-1 in plain digits, got ${shorten(q.policyItemId)}`,
        );
      const limit =
        q.limit === undefined
          ? DEFAULT_RECORD_LIST_LIMIT
          : typeof q.limit === 'string' && /^[1-9]\d{0,3}$/.test(q.limit)
            ? Number(q.limit)
            : NaN;
      if (!(Number.isInteger(limit) && limit >= 1 && limit <= 1000))
        problems.push(`limit must be a whole number from 1 to 1000, got ${shorten(q.limit)}`);
      if (q.cursor !== undefined && !(typeof q.cursor === 'string' && isValidCursor(q.cursor)))
        problems.push(`cursor must be a value of "next" from a previous page, got ${shorten(q.cursor)}`);
      if (problems.length > 0) return reply.code(400).send({ error: 'invalid query', ...capProblems(problems) });
      const page = await records.list({
        limit,
        ...(policyItemId !== undefined ? { policyItemId } : {}),
        ...(q.cursor !== undefined ? { before: q.cursor } : {}),
      });
      return { tasks: page.records, next: page.next ?? null };
    },
  );
  return Promise.resolve();
};

/** A query value quoted for an error message, shortened (a hostile one can be long). */
function shorten(v: unknown): string {
  const s = JSON.stringify(v) ?? 'nothing';
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
