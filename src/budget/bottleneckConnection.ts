/**
 * Bottleneck's ioredis connection, with two fixes we depend on. Bottleneck 2.19.5 (2019, unmaintained)
 * was written for Redis 5 and one machine; test/timing/bottleneckConnection.test.ts shows each fault on the
 * stock connection and its absence on this one, against a real Redis 7.
 *
 * 1. Redis 7 prefixes `ERR ` to errors raised with `redis.error_reply('...')` from a script. Bottleneck
 *    recognises its own script errors by exact message (`e.message == "SETTINGS_KEY_NOT_FOUND"`,
 *    `"UNKNOWN_CLIENT"`, `indexOf("OVERWEIGHT") == 0`) to re-create its state when its keys have gone
 *    (Redis restarted without persistence, keys deleted, failover). On Redis 7 none of those match, so a
 *    limiter whose keys vanished rejects every call forever. We strip the prefix from exactly those
 *    messages, so Bottleneck's own recovery runs again.
 *
 * 2. Every Bottleneck script takes `now` from the caller's `Date.now()` (ARGV[1]). Workers on machines
 *    whose clocks disagree by d ms compute the spacing between calls from different clocks, so the
 *    cluster can send calls up to d ms closer together than `minTime`, and a clock that jumps stalls or
 *    bursts everyone. The budget we guard is counted by one clock, the server's; Redis's clock is the
 *    best single clock the workers share, so the scripts use Redis `TIME` instead. Redis 7 always
 *    replicates scripts by effects, so calling TIME before writing is allowed.
 */
import Bottleneck from 'bottleneck';
import IORedis, { type Redis, type RedisOptions } from 'ioredis';

// Bottleneck's script table (no types are shipped for it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Scripts = require('bottleneck/lib/Scripts') as { names: string[]; payload(name: string): string };

const CLIENT_NOW = 'local now = tonumber(ARGV[1])';
const REDIS_NOW =
  "local __t = redis.call('time')\nlocal now = tonumber(__t[1]) * 1000 + math.floor(tonumber(__t[2]) / 1000)";
const BOTTLENECK_SCRIPT_ERROR = /^ERR ((?:SETTINGS_KEY_NOT_FOUND|UNKNOWN_CLIENT)$|OVERWEIGHT:)/;

/** A script's source, with `now` read from Redis instead of the caller. */
export function scriptWithRedisClock(name: string): string {
  const src = Scripts.payload(name);
  if (!src.includes(CLIENT_NOW)) {
    // A different Bottleneck would need this file re-checked: refuse to run with half a fix.
    throw new Error(`Bottleneck script ${name} no longer reads the clock as "${CLIENT_NOW}"`);
  }
  return src.replace(CLIENT_NOW, REDIS_NOW);
}

/** An error from a Bottleneck script, with Redis 7's `ERR ` prefix removed (fix 1). */
export function normaliseScriptError(err: unknown): unknown {
  if (err instanceof Error && BOTTLENECK_SCRIPT_ERROR.test(err.message)) {
    err.message = err.message.slice(4);
  }
  return err;
}

type ScriptCallback = (err: unknown, replies: unknown) => void;
type ScriptFn = (...args: unknown[]) => unknown;

interface ConnectionInternals {
  client: Redis;
  _loadScripts(): void;
  __scriptFn__(name: string): ScriptFn;
}

const Base = Bottleneck.IORedisConnection as unknown as new (
  options: Bottleneck.IORedisConnectionOptions,
) => Bottleneck.IORedisConnection & ConnectionInternals;

class FixedIORedisConnection extends Base {
  override _loadScripts(): void {
    for (const name of Scripts.names) {
      this.client.defineCommand(name, { lua: scriptWithRedisClock(name) });
    }
  }

  override __scriptFn__(name: string): ScriptFn {
    const fn = super.__scriptFn__(name);
    return (...args: unknown[]) => {
      const cb = args.pop() as ScriptCallback;
      return fn(...args, (err: unknown, replies: unknown) => cb(err ? normaliseScriptError(err) : err, replies));
    };
  }
}

/**
 * A Bottleneck connection with both fixes, to Redis at `url` or over a client made by
 * src/redisConnection.ts (TLS, ACL, Sentinel, or an ioredis Cluster: Bottleneck then subscribes on a
 * second Cluster with the same nodes and options). Share it across limiters of a process.
 */
export function createBottleneckConnection(
  url: string | Redis,
  options: RedisOptions = {},
): Bottleneck.IORedisConnection {
  const client =
    typeof url === 'string'
      ? new IORedis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options })
      : url;
  return new FixedIORedisConnection({ client });
}

/** The stock connection, for tests that show what the fixes are for. */
export function createStockBottleneckConnection(url: string): Bottleneck.IORedisConnection {
  return new Bottleneck.IORedisConnection({ client: new IORedis(url, { maxRetriesPerRequest: null }) });
}

/** The connection's ioredis client, once connected and Bottleneck's scripts are defined on it. */
export async function connectionClient(connection: Bottleneck.IORedisConnection): Promise<Redis> {
  // Despite its typings, the connection's `ready` is a promise, not a method.
  const { client } = await (connection as unknown as { ready: Promise<{ client: Redis }> }).ready;
  return client;
}

/**
 * `limiter.updateSettings(options)`, awaited: despite its typings (which say it returns the limiter) it
 * returns a promise that settles once the settings are written to Redis.
 */
export async function updateSettings(limiter: Bottleneck, options: Bottleneck.ConstructorOptions): Promise<void> {
  await (limiter.updateSettings(options) as unknown as Promise<Bottleneck>);
}
