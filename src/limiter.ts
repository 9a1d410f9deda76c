/**
 * The shared budget: one Bottleneck limiter in Redis for every worker process on every machine that
 * uses the same SecretId, endpoint host and action, so that together they stay within TCSS_RATE_LIMIT.
 *
 * Pacing is smooth, not bursty: the API counts arrivals in any 1-second window, so calls start at least
 * `1000 / rate + margin` ms apart cluster-wide (Bottleneck `minTime`, kept in Redis). Then no 1000 ms
 * holds more than `rate` calls, whatever the window's phase; a fixed-window limiter (BullMQ's `limiter`
 * option) lets up to twice the limit through across a window edge. `maxConcurrent` bounds how many
 * calls are reserved or in flight at once, cluster-wide, so a cut in rate takes effect within a moment.
 * Behind the pacing, a sliding log of actual send times (sendWindow.ts) makes sure that a call leaving
 * late never makes one call too many in any window.
 */
import { createHash, randomUUID } from 'node:crypto';
import Bottleneck from 'bottleneck';
import type { Redis } from 'ioredis';
import { AdaptiveRate, type AdaptiveRateOptions } from './adaptiveRate';
import { createBottleneckConnection } from './bottleneckConnection';
import type { RedisConfig } from './config';
import { keys } from './keys';
import { createRedis } from './redisConnection';
import { SendWindow } from './sendWindow';
import type { Logger } from './logger';

export interface SharedBudgetOptions {
  redisUrl: string;
  /** How to reach Redis (TLS, ACL, Sentinel, Cluster); without it, plain `redisUrl`. */
  redis?: RedisConfig;
  /** Budget id, from budgetId(): one per (SecretId, endpoint host, action). */
  id: string;
  /** The API's limit, requests per second. */
  rateLimit: number;
  /** Extra ms added to the spacing 1000 / rate, absorbing send-to-arrival jitter. */
  marginMs: number;
  /** The hard ceiling counts sends over 1000 + windowGuardMs (see sendWindow.ts). */
  windowGuardMs: number;
  /** Most calls reserved or in flight across the cluster. */
  maxInFlight: number;
  logger: Logger;
  /** Tuning of the adaptive rate (tests and benchmarks). */
  adaptive?: Partial<AdaptiveRateOptions>;
  /** Turn the adaptive rate off (benchmarks of the alternative). Default true. */
  adapt?: boolean;
}

/**
 * The budget's id: a hash, so neither the SecretId nor the host appears in Redis key names. The hash is
 * a Redis Cluster hash tag (`{...}`), so every key of one budget, Bottleneck's `b_<id>_*` and ours in
 * keys.ts, is in one slot: their scripts touch several of them at once.
 */
export function budgetId(secretId: string, endpointHost: string, action: string): string {
  const digest = createHash('sha256').update(`${secretId}\n${endpointHost.toLowerCase()}\n${action}`).digest('hex');
  return `tcss-rescan:budget:{${digest.slice(0, 24)}}`;
}

/** The cluster's current rate for a budget, req/s, as the adaptive controller last set it. */
export async function readBudgetRate(redis: Redis, id: string, maxRate: number): Promise<number> {
  const rate = Number(await redis.hget(keys.budgetRate(id), 'rate'));
  return Number.isFinite(rate) && rate > 0 ? Math.min(rate, maxRate) : maxRate;
}

export class SharedBudget {
  private lastSuccessReport = 0;
  private rate: number;
  private closed = false;

  private constructor(
    private readonly limiter: Bottleneck,
    private readonly connection: Bottleneck.IORedisConnection,
    private readonly adaptive: AdaptiveRate | undefined,
    private readonly window: SendWindow,
    private readonly opts: SharedBudgetOptions,
  ) {
    this.rate = opts.rateLimit;
  }

  static async create(opts: SharedBudgetOptions): Promise<SharedBudget> {
    const connection = createBottleneckConnection(opts.redis ? createRedis(opts.redis, { maxRetriesPerRequest: null }) : opts.redisUrl);
    const limiter = new Bottleneck({
      id: opts.id,
      datastore: 'ioredis',
      connection,
      clearDatastore: false,
      minTime: 1000 / opts.rateLimit + opts.marginMs,
      maxConcurrent: opts.maxInFlight,
    });
    limiter.on('error', (err: unknown) => opts.logger.warn({ err }, 'shared budget: limiter error'));
    connection.on('error', (err: unknown) => opts.logger.warn({ err }, 'shared budget: Redis connection error'));
    await limiter.ready();
    // Despite its typings, the connection's `ready` is a promise, not a method.
    const { client } = await (connection as unknown as { ready: Promise<{ client: Redis }> }).ready;
    const adaptive =
      opts.adapt === false
        ? undefined
        : new AdaptiveRate(client, keys.budgetRate(opts.id), keys.bottleneckSettings(opts.id), {
            maxRate: opts.rateLimit,
            marginMs: opts.marginMs,
            ...opts.adaptive,
          });
    // Without adaptation the ceiling reads a rate key nobody writes: the limit holds.
    const rateKey = adaptive ? keys.budgetRate(opts.id) : `${keys.budgetRate(opts.id)}:unused`;
    const window = new SendWindow(client, keys.budgetSends(opts.id), rateKey, opts.rateLimit, 1000 + opts.windowGuardMs, randomUUID());
    const budget = new SharedBudget(limiter, connection, adaptive, window, opts);
    // Settings in Redis outlive processes: make them match this process's configuration (another
    // process may have run with other values), starting from the cluster's current adapted rate.
    const rate = adaptive ? (await adaptive.report('get')).rate : opts.rateLimit;
    budget.rate = rate;
    await limiter.updateSettings({ minTime: 1000 / rate + opts.marginMs, maxConcurrent: opts.maxInFlight });
    return budget;
  }

  /** Runs `fn` when the cluster-wide budget allows a call. */
  schedule<T>(fn: () => Promise<T>, priority = 5): Promise<T> {
    return this.limiter.schedule({ priority }, async () => {
      await this.window.acquire();
      return fn();
    });
  }

  /** The API said RequestLimitExceeded: cut the cluster's rate (once per burst). Returns the new rate. */
  async throttled(): Promise<number> {
    if (!this.adaptive) return this.rate;
    const d = await this.adaptive.report('throttle');
    if (d.changed) this.opts.logger.warn({ rate: round(d.rate) }, 'shared budget: throttled by the API, slowing down');
    this.rate = d.rate;
    return d.rate;
  }

  /** A call succeeded: at most once a second, let the rate probe back up towards the limit. */
  succeeded(): void {
    if (!this.adaptive || this.closed) return;
    const now = Date.now();
    if (now - this.lastSuccessReport < 1000) return;
    this.lastSuccessReport = now;
    this.adaptive.report('success').then(
      (d) => {
        if (d.changed) this.opts.logger.info({ rate: round(d.rate) }, 'shared budget: probing back up');
        this.rate = d.rate;
      },
      (err: unknown) => this.opts.logger.warn({ err }, 'shared budget: could not update the adaptive rate'),
    );
  }

  /** The rate this process last saw (req/s). */
  currentRate(): number {
    return this.rate;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.limiter.stop({ dropWaitingJobs: false }).catch(() => undefined);
    // With a shared connection, disconnect() returns nothing (not a promise), despite its typings.
    await Promise.resolve(this.limiter.disconnect(true)).catch(() => undefined);
    await this.connection.disconnect(true).catch(() => undefined);
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
