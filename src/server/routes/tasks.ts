/** The recorded TaskIds: GET /v1/tasks, newest first, by page (a cursor), optionally for one policy item. */
import type { FastifyPluginAsync } from 'fastify';
import { quoteValue } from '../../problems';
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
      const policyItemId = q.policyItemId === undefined ? undefined : plainNumber(q.policyItemId, /^[1-9]\d{0,15}$/);
      if (policyItemId !== undefined && !Number.isSafeInteger(policyItemId))
        problems.push(
          `policyItemId must be a positive whole number no larger than 2^53-1 in plain digits, got ${quoteValue(q.policyItemId)}`,
        );
      const limit = q.limit === undefined ? DEFAULT_RECORD_LIST_LIMIT : plainNumber(q.limit, /^[1-9]\d{0,3}$/);
      if (!(Number.isInteger(limit) && limit >= 1 && limit <= 1000))
        problems.push(`limit must be a whole number from 1 to 1000, got ${quoteValue(q.limit)}`);
      if (q.cursor !== undefined && !(typeof q.cursor === 'string' && isValidCursor(q.cursor)))
        problems.push(`cursor must be a value of "next" from a previous page, got ${quoteValue(q.cursor)}`);
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

/**
 * A query value written in plain digits (`digits`), as a number; NaN for anything else. Plain digits
 * only: Number() would take "1e3", "0x10" and round "1.0000000000000001" to 1.
 */
function plainNumber(v: unknown, digits: RegExp): number {
  return typeof v === 'string' && digits.test(v) ? Number(v) : NaN;
}
