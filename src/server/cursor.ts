/**
 * Cursors of GET /v1/tasks: the `next` of a previous page, a Redis stream id `<ms>-<seq>` (records.ts).
 * Redis refuses ids beyond 2^64-1 and an exclusive range ending before `0-0` with an error, which was a
 * 500; a cursor we could not have issued is a 400 instead.
 */
const MAX_U64 = (1n << 64n) - 1n;

/** Whether `cursor` is a stream id we could have issued as `next`. */
export function isValidCursor(cursor: string): boolean {
  const m = /^(\d{1,20})-(\d{1,20})$/.exec(cursor);
  if (!m) return false;
  const ms = BigInt(m[1]!);
  const seq = BigInt(m[2]!);
  // 0-0 is below every entry: no page ends there. No leading zeros: we never write them.
  return ms <= MAX_U64 && seq <= MAX_U64 && (ms > 0n || seq > 0n) && String(ms) === m[1] && String(seq) === m[2];
}
