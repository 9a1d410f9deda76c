/**
 * How an error thrown by a route becomes an HTTP answer. Rules as a table, first match wins; the
 * answer never carries a stack, a command's arguments or a connection URL.
 */
import { isIdempotencyConflictError } from '../idempotency';
import { isConnectionError, isRedisUnavailableError } from '../redisFailFast';

export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: { error: string; code?: string };
}

type Err = Error & { statusCode?: number; code?: string };

const RULES: { when: (err: Err) => boolean; reply: (err: Err) => ErrorReply }[] = [
  {
    // Redis down, refusing the login or too slow: the client may retry later (with the same
    // Idempotency-Key, a retry can never enqueue twice).
    when: (err) => isRedisUnavailableError(err) || isConnectionError(err),
    reply: (err) => {
      const retryAfter = isRedisUnavailableError(err) ? err.retryAfterSeconds : 5;
      const outcome = isRedisUnavailableError(err) ? `: ${err.outcome}` : '';
      return {
        status: 503,
        headers: { 'retry-after': String(retryAfter) },
        body: { error: `Redis is unavailable${outcome}`, code: 'REDIS_UNAVAILABLE' },
      };
    },
  },
  {
    when: isIdempotencyConflictError,
    reply: (err) => ({ status: 409, headers: {}, body: { error: err.message, code: 'IDEMPOTENCY_CONFLICT' } }),
  },
  {
    // Oversized or malformed bodies and the like are the client's fault: say what was wrong.
    when: (err) => err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500,
    reply: (err) => ({
      status: err.statusCode!,
      headers: {},
      body: { error: err.message, ...(err.code ? { code: err.code } : {}) },
    }),
  },
];

export function errorReply(err: Err): ErrorReply {
  for (const rule of RULES) if (rule.when(err)) return rule.reply(err);
  const status = err.statusCode !== undefined && err.statusCode >= 500 && err.statusCode < 600 ? err.statusCode : 500;
  return { status, headers: {}, body: { error: 'internal error', ...(err.code ? { code: err.code } : {}) } };
}
