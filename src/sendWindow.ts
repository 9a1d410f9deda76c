/**
 * The hard ceiling behind the pacing: at most `limit` sends in any `windowMs`, counted cluster-wide at
 * the moment each call is about to leave, by Redis's clock.
 *
 * Bottleneck spaces calls by when they were *scheduled*; a call that then leaves late (a GC pause, a
 * busy event loop, a cold start) moves closer to the calls after it, and twenty-one arrivals can fall
 * inside one second at the server although every slot was 50 ms apart. This sliding log is checked
 * right before the call is sent, so lateness cannot add up to one call too many. It rarely waits:
 * the spacing normally keeps every window below the limit already.
 *
 * The log lives in Redis. If Redis loses it (restarted without persistence, a failover, keys evicted),
 * an empty log would let a full window of calls go at once, on top of the ones the server saw in the
 * last second. So a marker key that never expires says "this Redis has a log"; when the marker is
 * missing, the script assumes the last window was full at the smooth pace and seeds the log with that.
 * The first calls after a loss (or on a brand-new Redis) then wait at most one spacing interval.
 *
 * The same holds when the log has nothing in the last window (quiet, or everything in it expired):
 * after a Sentinel failover the new primary may hold a log without the sends its old primary never
 * replicated, and a failover takes longer than a window (down-after-milliseconds), so the log it has
 * is out of the window; and sends that queued up while Redis was away would otherwise all leave at
 * once, and the stragglers of such a burst, arriving late on a busy machine, meet the next window's
 * sends (measured in test/faults/sentinelFailover.fault.ts: 36 arrivals in one second). Seeded, they
 * leave at the smooth pace. The cost: the first call after a quiet second waits up to one spacing.
 */
import type { Redis } from 'ioredis';

// KEYS: [sorted set of send times, adaptive rate hash, marker]  ARGV: limit, windowMs, member
// The count allowed per window follows the cluster's adaptive rate (adaptiveRate.ts) when it is below
// the limit: a cut takes effect on the very next send, not only on calls scheduled after it.
// Returns 0 when the send may go now (and logs it), else the ms to wait before asking again.
const SCRIPT = `
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxLimit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local rate = tonumber(redis.call('hget', KEYS[2], 'rate'))
local limit = maxLimit
if rate then
  limit = math.floor(rate * window / 1000 + 1e-9)
  if limit > maxLimit then limit = maxLimit end
  if limit < 1 then limit = 1 end
end
if redis.call('exists', KEYS[3]) == 0 or redis.call('zcount', KEYS[1], now - window + 1, '+inf') == 0 then
  redis.call('set', KEYS[3], now)
  for i = 1, maxLimit do
    redis.call('zadd', KEYS[1], now - window + math.floor(i * window / maxLimit), 'assumed:' .. i .. ':' .. now)
  end
  redis.call('pexpire', KEYS[1], window * 2)
end
redis.call('zremrangebyscore', KEYS[1], '-inf', now - window)
local n = redis.call('zcard', KEYS[1])
if n < limit then
  redis.call('zadd', KEYS[1], now, ARGV[3] .. ':' .. now)
  redis.call('pexpire', KEYS[1], window * 2)
  return 0
end
local oldest = redis.call('zrange', KEYS[1], n - limit, n - limit, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now + 1
if wait < 1 then wait = 1 end
return wait
`;

type AcquireCommand = (key: string, rateKey: string, markerKey: string, limit: number, windowMs: number, member: string) => Promise<number>;

export class SendWindow {
  private seq = 0;
  /** Sends that had to wait (a sign of jitter; normally 0). */
  waits = 0;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    /** The adaptive rate's hash (see adaptiveRate.ts); a key that does not exist means: the limit. */
    private readonly rateKey: string,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly memberPrefix: string,
  ) {
    if (!(redis as unknown as Record<string, unknown>).tcssAcquireSend) {
      redis.defineCommand('tcssAcquireSend', { numberOfKeys: 3, lua: SCRIPT });
    }
  }

  /** Resolves when a call may leave now without exceeding the limit in any window. */
  async acquire(): Promise<void> {
    const cmd = (this.redis as unknown as { tcssAcquireSend: AcquireCommand }).tcssAcquireSend.bind(this.redis);
    for (;;) {
      const wait = Number(await cmd(this.key, this.rateKey, `${this.key}:marker`, this.limit, this.windowMs, `${this.memberPrefix}:${++this.seq}`));
      if (wait <= 0) return;
      this.waits++;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
