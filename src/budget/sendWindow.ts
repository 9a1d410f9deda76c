/**
 * The hard ceiling behind the pacing: at most `limit` sends in any `1000 + guard` ms, counted
 * cluster-wide at the moment each call is about to leave, by Redis's clock.
 *
 * Bottleneck spaces calls by when they were *scheduled*; a call that then leaves late (a GC pause, a
 * busy event loop, a cold start) moves closer to the calls after it, and twenty-one arrivals can fall
 * inside one second at the server although every slot was 50 ms apart. This sliding log is checked
 * right before the call is sent, so lateness cannot add up to one call too many. It rarely waits:
 * the spacing normally keeps every window below the limit already.
 *
 * The count allowed and the window follow the controller (adaptiveRate.ts): `floor(rate × window / 1000)`
 * sends per `window = 1000 + guard` ms, read from its state hash on every send, so a decision takes
 * effect on the very next send. The log also keeps the last few seconds of sends (SEND_LOG_RETAIN_MS):
 * on a throttle the controller counts how many we sent in the second before the refused call left.
 *
 * The log lives in Redis. If Redis loses it (restarted without persistence, a failover, keys evicted),
 * an empty log would let a full window of calls go at once, on top of the ones the server saw in the
 * last second. So a marker key that never expires says "this Redis has a log"; when the marker is
 * missing, the script assumes the last window was full at the smooth pace and seeds the log with that
 * (`assumed:` entries, which the controller does not count as ours).
 *
 * The same holds when the log has nothing in the last window (quiet, or everything in it expired):
 * after a Sentinel failover the new primary may hold a log without the sends its old primary never
 * replicated, and a failover takes longer than a window, so the log it has is out of the window; and
 * sends that queued up while Redis was away would otherwise all leave at once (measured in
 * test/faults/sentinelFailover.fault.ts: 36 arrivals in one second). Seeded, they leave at the smooth
 * pace. The cost: the first call after a quiet second waits up to one spacing. The marker holds when
 * the log was last seeded, and a quiet log is seeded again only two windows later: at a limit of 1,
 * the one send that waited for its seeded window to pass would otherwise find it empty again, be
 * seeded again, and wait forever.
 *
 * A window with room is not a licence to spend the room at once. When sends bunch up before they reach
 * this script (the client's commands held while a Redis Cluster refreshed its slots, a process that was
 * descheduled), a log with 15 sends in the last window would let the next 5 go in the same
 * millisecond; the window still holds 20 by Redis's clock, but calls that leave together sit at the edge
 * of the server's window, and a few ms of jitter then counts 21 or 22 there (seen in
 * test/faults/clusterFailover.fault.ts: sends at the same ms, 22 arrivals in one second). So the log
 * also keeps the smooth pace (a generic cell rate algorithm): every send moves the pace key on by
 * `window / limit` ms, and a send may go at most half of that before it. On-time sends never wait for
 * it (Bottleneck spaces them by at least that already); a bunch leaves spread out at the pace.
 */
import type { Redis } from 'ioredis';
import { SEND_LOG_RETAIN_MS } from './adaptiveRate';
import { defineScript, replyNumbers } from './script';

/**
 * The send log expires when nothing was logged for twice its retention: everything in it is older than
 * anyone reads by then, so an idle budget leaves no log behind. The marker never expires: it keeps
 * saying that this Redis kept a log (see above).
 */
export const SEND_LOG_TTL_MS = 2 * SEND_LOG_RETAIN_MS;

/** How far ahead of the smooth pace a send may go, as a fraction of the pace (see the file comment). */
export const PACE_TOLERANCE = 0.5;

// Returns {0, now} when the send may go now (and logs it at `now`), else {ms to wait, now}.
// peek = 1: the same answer without logging anything (warm-up).
const script = defineScript({
  name: 'acquireSend',
  keys: ['sends', 'state', 'marker', 'pace'] as const,
  args: ['limit', 'guard', 'member', 'retain', 'peek'] as const,
  lua: `
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxLimit = tonumber(A.limit)
local retain = tonumber(A.retain)
local s = redis.call('hmget', K.state, 'rate', 'guard')
local rate = tonumber(s[1])
local guard = tonumber(s[2]) or tonumber(A.guard)
local window = 1000 + guard
local limit = maxLimit
if rate then
  limit = math.floor(rate * window / 1000 + 1e-9)
  if limit > maxLimit then limit = maxLimit end
  if limit < 1 then limit = 1 end
end
local marker = redis.call('get', K.marker)
local seededAt = tonumber(marker) or 0
if marker == false or (A.peek ~= '1' and now - seededAt > 2 * window and redis.call('zcount', K.sends, now - window + 1, '+inf') == 0) then
  redis.call('set', K.marker, now)
  for i = 1, maxLimit do
    redis.call('zadd', K.sends, now - window + math.floor(i * window / maxLimit), 'assumed:' .. i .. ':' .. now)
  end
  redis.call('pexpire', K.sends, ${SEND_LOG_TTL_MS})
end
redis.call('zremrangebyscore', K.sends, '-inf', now - retain)
local n = redis.call('zcount', K.sends, '(' .. (now - window), '+inf')
if n < limit then
  -- The smooth pace: the next send is due at 'pace'; it may go up to 'early' ms before.
  local step = window / limit
  local early = step * ${PACE_TOLERANCE}
  local pace = tonumber(redis.call('get', K.pace)) or 0
  if pace - early > now then
    return {math.ceil(pace - early - now), now}
  end
  if A.peek ~= '1' then
    redis.call('zadd', K.sends, now, A.member .. ':' .. now)
    redis.call('pexpire', K.sends, ${SEND_LOG_TTL_MS})
    redis.call('set', K.pace, tostring(math.max(pace, now) + step), 'PX', ${SEND_LOG_TTL_MS})
  end
  return {0, now}
end
-- The entries in the window are the newest n; the one that must leave it first is the limit-th newest.
local total = redis.call('zcard', K.sends)
local oldest = redis.call('zrange', K.sends, total - limit, total - limit, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now + 1
if wait < 1 then wait = 1 end
return {wait, now}
`,
  parse: (reply) => {
    const [waitMs, nowMs] = replyNumbers(reply, 2) as [number, number];
    return { waitMs, nowMs };
  },
});

export interface SendWindowKeys {
  /** Sorted set of send times (keys.budgetSends). */
  sends: string;
  /** The controller's state hash (keys.budgetRate); a hash that does not exist means: the limit, `guardMs`. */
  state: string;
  /** keys.budgetSendsMarker */
  marker: string;
  /** keys.budgetSendsPace */
  pace: string;
}

export class SendWindow {
  private seq = 0;
  /** Sends that had to wait (a sign of jitter; normally 0). */
  waits = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keys: SendWindowKeys,
    /** Most sends per window. */
    private readonly limit: number,
    /** The guard when the controller has not set one, ms. */
    private readonly guardMs: number,
    private readonly memberPrefix: string,
  ) {}

  /** Resolves when a call may leave now without exceeding the limit in any window; returns that
   * moment by Redis's clock (ms), which the log recorded. */
  async acquire(): Promise<number> {
    for (;;) {
      const { waitMs, nowMs } = await this.run(false);
      if (waitMs <= 0) return nowMs;
      this.waits++;
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }

  /** Runs the script without logging a send: loads it into Redis and seeds a lost log (warm-up). */
  async peek(): Promise<void> {
    await this.run(true);
  }

  private run(peek: boolean) {
    return script.run(this.redis, this.keys, {
      limit: this.limit,
      guard: this.guardMs,
      member: `${this.memberPrefix}:${++this.seq}`,
      retain: SEND_LOG_RETAIN_MS,
      peek: peek ? 1 : 0,
    });
  }
}
