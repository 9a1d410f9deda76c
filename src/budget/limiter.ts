/**
 * The shared budget: one Bottleneck limiter in Redis for every worker process on every machine that
 * uses the same budget id (budgetId.ts), so that together they stay within TCSS_RATE_LIMIT.
 *
 * Pacing is smooth, not bursty: the API counts arrivals in any 1-second window, so calls start at least
 * `spacing = (1000 + guard) / rate + margin` ms apart cluster-wide (Bottleneck `minTime`, kept in Redis
 * and written only by the controller, adaptiveRate.ts). Then no 1000 + guard ms holds more than `rate`
 * calls, whatever the window's phase; a fixed-window limiter (BullMQ's `limiter` option) lets up to
 * twice the limit through across a window edge. `maxConcurrent` bounds how many calls are reserved or
 * in flight at once, cluster-wide, so a decision takes effect within a moment. Behind the pacing, a
 * sliding log of actual send times (sendWindow.ts) makes sure that a call leaving late never makes one
 * call too many in any window; on a throttle, the controller reads that log to tell our own timing
 * from another consumer of the key. docs/budget.md explains the design and the numbers.
 */
import { randomUUID } from 'node:crypto';
import Bottleneck from 'bottleneck';
import type { Redis } from 'ioredis';
import type { RedisConfig } from '../config';
import { keys } from '../keys';
import type { Logger } from '../logger';
import { createRedis } from '../redisConnection';
import { oncePerOutage } from '../redisFailFast';
import { AdaptiveRate, type AdaptiveRateOptions, type RateDecision } from './adaptiveRate';
import { connectionClient, createBottleneckConnection, updateSettings } from './bottleneckConnection';
import { SendWindow } from './sendWindow';

/** A process reports success to the controller at most this often: one Redis call a second, not one per call. */
const SUCCESS_REPORT_INTERVAL_MS = 1000;

export interface SharedBudgetOptions {
  redisUrl: string;
  /** How to reach Redis (TLS, ACL, Sentinel, Cluster); without it, plain `redisUrl`. */
  redis?: RedisConfig;
  /** Budget id, from budgetId(). */
  id: string;
  /** The API's limit, requests per second. */
  rateLimit: number;
  /** Extra ms added to every spacing (TCSS_PACING_MARGIN_MS). */
  marginMs: number;
  /** The send-time guard a new budget starts with (TCSS_WINDOW_GUARD_MS); the controller moves it. */
  windowGuardMs: number;
  /** Most calls reserved or in flight across the cluster. */
  maxInFlight: number;
  logger: Logger;
  /** Tuning of the controller (tests and benchmarks). */
  adaptive?: Partial<AdaptiveRateOptions>;
  /** Turn the controller off (benchmarks of the alternative): the limit and the starting guard hold. Default true. */
  adapt?: boolean;
}

/** The cluster's current rate for a budget, req/s, as the controller last set it. */
export async function readBudgetRate(redis: Redis, id: string, maxRate: number): Promise<number> {
  const rate = Number(await redis.hget(keys.budgetRate(id), 'rate'));
  return Number.isFinite(rate) && rate > 0 ? Math.min(rate, maxRate) : maxRate;
}

/** The cluster's current send-time guard for a budget, ms (`fallbackMs` before the controller set one). */
export async function readBudgetGuard(redis: Redis, id: string, fallbackMs: number): Promise<number> {
  const guard = Number(await redis.hget(keys.budgetRate(id), 'guard'));
  return Number.isFinite(guard) && guard >= 0 ? guard : fallbackMs;
}

export class SharedBudget {
  private lastSuccessReport = 0;
  private last: RateDecision;
  private closed = false;
  /** When each failed call left (Redis ms), for the diagnosis of a throttle. */
  private readonly sentAt = new WeakMap<object, number>();

  private constructor(
    private readonly limiter: Bottleneck,
    private readonly connection: Bottleneck.IORedisConnection,
    private readonly controller: AdaptiveRate,
    private readonly window: SendWindow,
    private readonly opts: SharedBudgetOptions,
    first: RateDecision,
  ) {
    this.last = first;
  }

  static async create(opts: SharedBudgetOptions): Promise<SharedBudget> {
    const connection = createBottleneckConnection(
      opts.redis ? createRedis(opts.redis, { maxRetriesPerRequest: null }) : opts.redisUrl,
    );
    const redisLog = oncePerOutage(opts.logger, 'shared budget: Redis connection error');
    connection.on('error', redisLog.error);
    const client = await connectionClient(connection);
    client.on('ready', redisLog.ready);
    const controller = new AdaptiveRate(
      client,
      { state: keys.budgetRate(opts.id), settings: keys.bottleneckSettings(opts.id), sends: keys.budgetSends(opts.id) },
      { maxRate: opts.rateLimit, marginMs: opts.marginMs, guardMs: opts.windowGuardMs, ...opts.adaptive },
    );
    // The cluster's current spacing (the controller's state outlives processes).
    const first = await controller.report('get');
    const limiter = new Bottleneck({
      id: opts.id,
      datastore: 'ioredis',
      connection,
      clearDatastore: false,
      minTime: first.spacingMs,
      maxConcurrent: opts.maxInFlight,
    });
    limiter.on('error', (err: unknown) => opts.logger.warn({ err }, 'shared budget: limiter error'));
    await limiter.ready();
    // Settings in Redis outlive processes (another process may have run with other values): this
    // process's maxConcurrent, and the spacing the controller's state says, written by the controller.
    await updateSettings(limiter, { maxConcurrent: opts.maxInFlight });
    const synced = await controller.report('sync');
    const window = new SendWindow(
      client,
      {
        sends: keys.budgetSends(opts.id),
        state: keys.budgetRate(opts.id),
        marker: keys.budgetSendsMarker(opts.id),
        pace: keys.budgetSendsPace(opts.id),
      },
      opts.rateLimit,
      opts.windowGuardMs,
      randomUUID(),
    );
    return new SharedBudget(limiter, connection, controller, window, opts, synced);
  }

  /** Loads the send window's script and seeds a lost log, so that the first call pays neither. */
  async warmUp(): Promise<void> {
    await this.window.peek();
  }

  /** Runs `fn` when the cluster-wide budget allows a call. */
  schedule<T>(fn: () => Promise<T>, priority = 5): Promise<T> {
    return this.limiter.schedule({ priority }, async () => {
      const sentAt = await this.window.acquire();
      try {
        return await fn();
      } catch (err) {
        if (typeof err === 'object' && err !== null) this.sentAt.set(err, sentAt);
        throw err;
      }
    });
  }

  /**
   * The API said RequestLimitExceeded for the call that failed with `err` (an error thrown through
   * schedule()): the controller decides, from our send log, whether to widen the guard or set the
   * rate (once per burst). Returns the cluster's rate after it.
   */
  async throttled(err?: unknown): Promise<number> {
    if (this.opts.adapt === false) return this.last.rate;
    const sentAt = typeof err === 'object' && err !== null ? (this.sentAt.get(err) ?? 0) : 0;
    const d = await this.controller.report('throttle', sentAt);
    if (d.changed) {
      const fields = {
        rate: round(d.rate),
        guardMs: round(d.guardMs),
        spacingMs: round(d.spacingMs),
        sentInLastSecond: d.sent,
      };
      if (d.cause === 'own-timing')
        this.opts.logger.warn(
          fields,
          'shared budget: throttled although we sent no more than the limit (arrival jitter): widening the send-time guard',
        );
      else
        this.opts.logger.warn(
          { ...fields, otherConsumerAtLeast: d.sent > 0 ? this.opts.rateLimit - (d.sent - 1) : undefined },
          'shared budget: throttled while we sent less than the limit (another consumer of the key): rate set to what is left',
        );
    }
    this.last = d;
    return d.rate;
  }

  /** A call succeeded: at most once a second, let the controller probe back towards the limit. */
  succeeded(): void {
    if (this.opts.adapt === false || this.closed) return;
    const now = Date.now();
    if (now - this.lastSuccessReport < SUCCESS_REPORT_INTERVAL_MS) return;
    this.lastSuccessReport = now;
    this.controller.report('success').then(
      (d) => {
        if (d.changed)
          this.opts.logger.debug({ rate: round(d.rate), guardMs: round(d.guardMs) }, 'shared budget: probing back');
        this.last = d;
      },
      (err: unknown) => this.opts.logger.warn({ err }, 'shared budget: could not update the controller'),
    );
  }

  /** The rate this process last saw (req/s). */
  currentRate(): number {
    return this.last.rate;
  }

  /** The send-time guard this process last saw (ms). */
  currentGuardMs(): number {
    return this.last.guardMs;
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
