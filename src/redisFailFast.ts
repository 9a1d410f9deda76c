/**
 * Producers (the library, the CLI, the HTTP API) fail fast when Redis is gone, and never enqueue later.
 *
 * ioredis's defaults are made for workers: commands issued while disconnected wait in an offline
 * queue and run when Redis returns, and commands in flight when a connection drops are sent again
 * (`autoResendUnfulfilledCommands`). For a producer that means a caller that gave up (an HTTP client
 * that timed out, a CLI killed with Ctrl-C) still has its rescans enqueued minutes later, and its
 * retry makes duplicates. So producer connections:
 *   - have no offline queue: a command on a connection that is not ready fails at once;
 *   - never resend a command after a reconnect, and reject what was in flight when it dropped;
 *   - wait at most `timeoutMs` for each step (ready, then each round trip); on timeout the connection
 *     is closed for good, so nothing still pending on it can reach Redis afterwards.
 * See ioredis's RedisOptions (`enableOfflineQueue`, `autoResendUnfulfilledCommands`,
 * `maxRetriesPerRequest`) and event_handler.ts's closeHandler, which flushes the command queue when
 * `maxRetriesPerRequest` is reached (0: on every close).
 *
 * The one window left: a Redis that is frozen (not down) may already hold a command in its socket
 * buffer and run it when it wakes. An `idempotencyKey` makes the caller's retry safe then (idempotency.ts).
 */
import IORedis, { type Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from './config';
import { errorMessage, maskUrlPasswords } from './redact';
import { createRedis } from './redisConnection';

/** ioredis options for producer connections (see above). */
export const FAIL_FAST_OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
};

/** Default bound on each wait for Redis, ms (`PRODUCER_TIMEOUT_MS`). */
export const DEFAULT_PRODUCER_TIMEOUT_MS = 5_000;

/** Redis did not answer (down, unreachable, refusing the login, or too slow): nothing more will be sent. */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  readonly code = 'REDIS_UNAVAILABLE';
  /** Seconds after which a retry is reasonable (the HTTP API's Retry-After). */
  readonly retryAfterSeconds: number;
  /**
   * @param outcome what became of the call, for people and HTTP clients ("nothing was enqueued");
   *   the message adds where Redis is (password masked) and why.
   */
  constructor(
    message: string,
    readonly outcome = 'nothing was done',
    retryAfterSeconds = 5,
  ) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Matched by code as well as by class: errors cross module copies and processes. */
export function isRedisUnavailableError(err: unknown): err is RedisUnavailableError {
  return err instanceof RedisUnavailableError || (err as { code?: unknown } | null)?.code === 'REDIS_UNAVAILABLE';
}

/**
 * Whether an error from ioredis/BullMQ means "no usable connection" rather than a bug or a bad
 * command: connection refused/reset/closed, no offline queue, retries used up, login refused, Redis
 * loading or out of memory.
 */
export function isConnectionError(err: unknown): boolean {
  if (isRedisUnavailableError(err)) return true;
  const e = err as { name?: unknown; code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  if (
    typeof e.code === 'string' &&
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)$/.test(e.code)
  )
    return true;
  const m = typeof e.message === 'string' ? e.message : '';
  return /Connection is closed|Stream isn't writeable|enableOfflineQueue|^(NOAUTH|WRONGPASS|NOPERM|LOADING|MASTERDOWN|OOM|READONLY)\b|connect ETIMEDOUT|ECONNREFUSED/.test(
    m,
  );
}

/** Redis refused the login (wrong password, disabled user, missing permission): retrying will not help. */
function isLoginRefused(err: unknown): boolean {
  return /^(WRONGPASS|NOAUTH|NOPERM)\b/.test((err as { message?: unknown } | null)?.message?.toString() ?? '');
}

/** A producer connection: fail-fast options, its last error kept for messages (and never printed raw). */
export class FailFastConnection {
  readonly client: Redis;
  private lastError: unknown;

  /** Where it connects, for messages: never a password. */
  private readonly where: string;

  /** `target`: a URL, or the REDIS section of the configuration (TLS, ACL, Sentinel, Cluster). */
  constructor(
    target: string | RedisConfig,
    readonly timeoutMs: number,
    extra: RedisOptions = {},
  ) {
    const options = { connectTimeout: timeoutMs, ...extra, ...FAIL_FAST_OPTIONS };
    if (typeof target === 'string') {
      this.client = new IORedis(target, options);
      this.where = maskUrlPasswords(target);
    } else {
      this.client = createRedis(target, options);
      this.where = whereIs(target);
    }
    // A listener keeps ioredis from printing "Unhandled error event" (and BullMQ from console.error-ing
    // the error with its command arguments); the error is only ever shown through redact.ts.
    this.client.on('error', (err: unknown) => {
      this.lastError = err;
    });
    this.client.on('ready', () => {
      this.lastError = undefined;
    });
  }

  /** Why Redis is unavailable, for people: the URL without its password, and the last error, redacted. */
  unavailable(what: string): RedisUnavailableError {
    const why = this.lastError !== undefined ? errorMessage(this.lastError) : `no answer within ${this.timeoutMs} ms`;
    return new RedisUnavailableError(`Redis at ${this.where} is unavailable (${why}): ${what}; ${this.remedy()}`, what);
  }

  /** What the person reading the message can do about it. */
  private remedy(): string {
    if (isLoginRefused(this.lastError)) return 'fix the user and password in REDIS_URL (or the ACL user in Redis)';
    if (this.lastError === undefined) return 'check that Redis is up and not overloaded, or raise PRODUCER_TIMEOUT_MS';
    return 'start Redis there, or point REDIS_URL (or REDIS_SENTINELS / REDIS_CLUSTER_NODES) at a running one';
  }

  /**
   * Resolves when the connection is ready; a RedisUnavailableError after timeoutMs, or at once when
   * Redis refuses the login (waiting would not change its mind).
   */
  async ready(what: string, onTimeout?: () => void): Promise<void> {
    if (this.client.status === 'ready') return;
    if (isLoginRefused(this.lastError)) throw this.unavailable(what);
    let cleanup = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      const onReady = () => {
        cleanup();
        resolve();
      };
      const onEnd = () => {
        cleanup();
        reject(this.unavailable(what));
      };
      const onError = (err: unknown) => {
        if (isLoginRefused(err)) onEnd();
      };
      cleanup = () => {
        this.client.off('ready', onReady);
        this.client.off('end', onEnd);
        this.client.off('error', onError);
      };
      this.client.on('ready', onReady);
      this.client.on('end', onEnd);
      this.client.on('error', onError);
    });
    try {
      await this.within(ready, what, onTimeout);
    } finally {
      cleanup();
    }
  }

  /**
   * `work`, or a RedisUnavailableError after timeoutMs. Writers pass an `onTimeout` that closes the
   * connection for good (and what is bound to it), so nothing still pending on it is sent later;
   * readers keep theirs, which reconnects when Redis returns. Connection errors become
   * RedisUnavailableError; other errors pass through.
   */
  async within<T>(work: Promise<T>, what: string, onTimeout: () => void = () => undefined): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(this.unavailable(what));
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } catch (err) {
      if (isRedisUnavailableError(err)) throw err;
      if (isConnectionError(err)) {
        this.lastError = err;
        throw this.unavailable(what);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      work.catch(() => undefined); // a loser of the race must not become an unhandled rejection
    }
  }

  close(): void {
    this.client.disconnect();
  }
}

/** Where a set-up connects, for messages, as a URL whose password is masked (`redis://user:***@host:port`). */
function whereIs(cfg: RedisConfig): string {
  const scheme = cfg.tls ? 'rediss' : 'redis';
  const user =
    cfg.username !== undefined || cfg.password !== undefined
      ? `${cfg.username ?? ''}${cfg.password !== undefined ? ':***' : ''}@`
      : '';
  const nodes = (list: readonly { host: string; port: number }[]) => list.map((n) => `${n.host}:${n.port}`).join(',');
  if (cfg.mode === 'sentinel') return `${scheme}://${user}${cfg.sentinelName ?? ''} (Sentinel ${nodes(cfg.sentinels)})`;
  if (cfg.mode === 'cluster') return `${scheme}://${user}${nodes(cfg.clusterNodes)} (Cluster)`;
  return `${scheme}://${user}${cfg.host}:${cfg.port}`;
}

/**
 * Logs a Redis connection's errors once per outage (the first error after it was ready), not on every
 * reconnect attempt; the logger's serializer redacts them. Wire `error` and `ready` to the client.
 */
export function oncePerOutage(
  logger: { warn(obj: object, msg: string): void },
  msg: string,
): { error: (err: unknown) => void; ready: () => void } {
  let errors = 0;
  return {
    error: (err: unknown) => {
      if (errors++ === 0) logger.warn({ err }, msg);
    },
    ready: () => {
      errors = 0;
    },
  };
}
