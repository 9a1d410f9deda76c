/**
 * Idempotent intake: a request carrying an idempotency key (`Idempotency-Key` header, or the
 * producer's `idempotencyKey` option) is enqueued once; a retry with the same key within 24 h gets the
 * same job ids back and enqueues nothing new; the same key with a different request is a conflict.
 *
 * How, atomically in Redis:
 *   1. claim: one Lua script reads the key's record or, when there is none, writes a new one
 *      `{fingerprint, nonce}` with a 24 h expiry. The first writer wins; everyone else reads its record.
 *   2. the jobs get ids derived from the record's nonce (`idem-<nonce>-<n>`) and batch ids derived from
 *      it too, so a retry computes exactly the same jobs. BullMQ refuses to add a job whose id exists
 *      (its addJob scripts return the existing id), so a retry after a half-done attempt adds only what
 *      is missing, never a duplicate.
 *   3. done: the record stores the job ids; later retries answer from it without touching the queue
 *      (a finished job may have been removed from the queue meanwhile and must not be added again).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ValidationError, type RescanRequest } from './job';
import { keys } from './keys';

/** How long a key is remembered (24 h). */
export const IDEMPOTENCY_TTL_SECONDS = 86_400;

/** Longest idempotency key accepted. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** The same idempotency key was used before with a different request: nothing was enqueued. */
export class IdempotencyConflictError extends Error {
  override readonly name = 'IdempotencyConflictError';
  readonly code = 'IDEMPOTENCY_CONFLICT';
  constructor(readonly idempotencyKey: string) {
    super(
      `idempotency key ${JSON.stringify(idempotencyKey)} was already used within the last 24 h for a different request: nothing was enqueued`,
    );
  }
}

export function isIdempotencyConflictError(err: unknown): err is IdempotencyConflictError {
  return err instanceof IdempotencyConflictError || (err as { code?: unknown } | null)?.code === 'IDEMPOTENCY_CONFLICT';
}

/** Keys are 1 to 255 printable ASCII characters (what fits an HTTP header unchanged). */
export function checkIdempotencyKey(key: unknown): string {
  if (
    typeof key !== 'string' ||
    key.length < 1 ||
    key.length > MAX_IDEMPOTENCY_KEY_LENGTH ||
    !/^[\x21-\x7e]+$/.test(key)
  ) {
    const got =
      typeof key === 'string'
        ? key.length > 40
          ? `${key.length} characters`
          : JSON.stringify(key).replace(/[^\x20-\x7e]/g, '?')
        : typeof key;
    throw new ValidationError([
      `idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters without spaces, got ${got}`,
    ]);
  }
  return key;
}

/** What a key's record says. */
export interface IdempotencyRecord {
  /** Hash of the validated requests and options the key was first used with. */
  fingerprint: string;
  /** Random; the jobs' ids and batch ids derive from it. */
  nonce: string;
  /** Set once every job was added. */
  jobIds?: string[];
  batchIds?: (string | null)[];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The fingerprint of a request: the validated rescans and the options that shape the jobs. */
export function fingerprint(requests: RescanRequest[], options: Record<string, unknown>): string {
  return sha256(JSON.stringify({ requests, options }));
}

/** Job id `n` of a claim. Not a whole number and no `:` (BullMQ's rules for custom ids). */
export function idempotentJobId(nonce: string, n: number): string {
  return `idem-${nonce}-${n}`;
}

/** Batch id of request `i` of a claim: UUID-shaped, derived from the nonce. */
export function idempotentBatchId(nonce: string, i: number): string {
  const h = sha256(`${nonce}:${i}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

// Returns the record now stored: the existing one, or the one written (ARGV[1]) when there was none.
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ARGV[1]`;

/** Claims a key for a request: the record stored for it (ours when new). Conflicts throw. */
export async function claimIdempotencyKey(
  redis: Redis,
  queueName: string,
  key: string,
  fp: string,
): Promise<{ redisKey: string; record: IdempotencyRecord }> {
  const redisKey = keys.idempotency(queueName, sha256(key));
  const mine: IdempotencyRecord = { fingerprint: fp, nonce: randomBytes(12).toString('hex') };
  const stored = JSON.parse(
    (await redis.eval(CLAIM, 1, redisKey, JSON.stringify(mine), String(IDEMPOTENCY_TTL_SECONDS))) as string,
  ) as IdempotencyRecord;
  if (stored.fingerprint !== fp) throw new IdempotencyConflictError(key);
  return { redisKey, record: stored };
}

/** Marks a claim done (keeping its expiry): later retries answer from the record. */
export async function completeIdempotencyKey(redis: Redis, redisKey: string, record: IdempotencyRecord): Promise<void> {
  await redis.set(redisKey, JSON.stringify(record), 'KEEPTTL', 'XX');
}
