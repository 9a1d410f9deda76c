/**
 * Every Redis connection of the service is built here, from the REDIS section of the Config: the
 * producers' and workers' BullMQ connections, the budget's (Bottleneck's) connection, the records',
 * the server's and the CLI's. Three set-ups (docs/production-redis.md):
 *
 * - single:   one Redis at REDIS_URL (`redis://` or `rediss://user:password@host:port/db`);
 * - sentinel: a primary with replicas found through REDIS_SENTINELS / REDIS_SENTINEL_NAME; ioredis asks
 *             the sentinels for the primary and asks again after every disconnect, so a failover is
 *             followed without a restart;
 * - cluster:  REDIS_CLUSTER_NODES; every multi-key operation keeps its keys in one hash slot (the
 *             BullMQ prefix below, and the tags in src/keys.ts and budgetId()).
 *
 * In all three, REDIS_URL gives the scheme (`rediss:` = TLS), the ACL user, the password and the db.
 * The server's certificate is checked against the system CAs, or REDIS_TLS_CA_FILE; only
 * REDIS_TLS_INSECURE=true turns the check off (and redisConnectionWarnings() says so loudly).
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { ConnectionOptions } from 'bullmq';
import IORedis, { Cluster, type ClusterOptions, type Redis, type RedisOptions } from 'ioredis';
import type { RedisConfig } from './config';

/**
 * BullMQ's key prefix. On a cluster it carries a hash tag, so that every key of a queue is in one slot
 * (BullMQ's scripts touch several keys of a queue at once); elsewhere BullMQ's default, so that the
 * queue of an existing single-Redis deployment stays where it is.
 * https://docs.bullmq.io/bull/patterns/redis-cluster
 */
export function queuePrefix(cfg: RedisConfig): string {
  return cfg.mode === 'cluster' ? '{tcss-rescan}' : 'bull';
}

/** TLS options for node:tls, or undefined without TLS. */
function tlsOptions(cfg: RedisConfig): TlsOptions | undefined {
  if (!cfg.tls) return undefined;
  return {
    ...(cfg.ca !== undefined ? { ca: cfg.ca } : {}),
    // Only an explicit REDIS_TLS_INSECURE=true turns certificate checking off.
    rejectUnauthorized: !cfg.tlsInsecure,
  };
}

/** Options for one node (single, a sentinel-managed primary, or each node of a cluster). */
function nodeOptions(cfg: RedisConfig): RedisOptions {
  const tls = tlsOptions(cfg);
  return {
    ...(cfg.username !== undefined ? { username: cfg.username } : {}),
    ...(cfg.password !== undefined ? { password: cfg.password } : {}),
    ...(tls ? { tls } : {}),
  };
}

/**
 * ioredis options for a single Redis or a Sentinel set-up (not a cluster: see createRedis). `extra`
 * comes first; what the set-up requires goes after it and cannot be overridden.
 */
export function redisOptions(cfg: RedisConfig, extra: RedisOptions = {}): RedisOptions {
  const node = nodeOptions(cfg);
  if (cfg.mode === 'sentinel') {
    const tls = tlsOptions(cfg);
    return {
      ...extra,
      ...node,
      db: cfg.db,
      sentinels: cfg.sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: cfg.sentinelName!,
      ...(cfg.sentinelPassword !== undefined ? { sentinelPassword: cfg.sentinelPassword } : {}),
      // With TLS, both the sentinels and the data nodes are reached over TLS.
      ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
      // ioredis asks the sentinels again whenever the connection drops. Its `failoverDetector` (which
      // also listens for +switch-master) is left off: in one failover run with it on, a producer's
      // connection ended for good while reconnecting ("Connection is closed"); not seen without it.
      // A demoted primary answers writes with READONLY: reconnect (to the new primary) and retry.
      reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false),
    };
  }
  return { ...extra, ...node, host: cfg.host, port: cfg.port, db: cfg.db };
}

/**
 * A Redis client for the set-up. On a cluster the ioredis Cluster is returned typed as Redis: it has
 * the same commands, and every multi-key command we send keeps its keys in one slot.
 */
export function createRedis(cfg: RedisConfig, extra: RedisOptions = {}): Redis {
  if (cfg.mode === 'cluster') return createCluster(cfg, extra) as unknown as Redis;
  return new IORedis(redisOptions(cfg, extra));
}

function createCluster(cfg: RedisConfig, extra: RedisOptions): Cluster {
  // Per-node options (maxRetriesPerRequest included) go to redisOptions; a cluster has its own retry
  // strategy and offline queue at the top level.
  const { enableOfflineQueue, retryStrategy, lazyConnect, ...rest } = extra;
  const options: ClusterOptions = {
    redisOptions: { ...rest, ...nodeOptions(cfg) },
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) ?? null } : {}),
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    // A failover moves slots: follow MOVED/ASK redirections and refresh the slot map promptly.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    slotsRefreshTimeout: 2000,
    // With TLS, the names in the certificates are the configured ones, not the IPs nodes announce.
    ...(cfg.tls
      ? {
          dnsLookup: (address: string, callback: (err: Error | null, address: string) => void) =>
            callback(null, address),
        }
      : {}),
  };
  return new Cluster(
    cfg.clusterNodes.map((n) => ({ host: n.host, port: n.port })),
    options,
  );
}

/** What BullMQ needs: connection options, or (cluster) a Cluster instance that we own and close. */
export interface BullConnection {
  connection: ConnectionOptions;
  prefix: string;
  /** Closes what we own (the Cluster instance); BullMQ closes the connections it created itself. */
  close(): Promise<void>;
}

/** The connection for a BullMQ Queue or Worker. `extra` as in redisOptions. */
export function bullConnection(cfg: RedisConfig, extra: RedisOptions = {}): BullConnection {
  const prefix = queuePrefix(cfg);
  if (cfg.mode === 'cluster') {
    const cluster = createCluster(cfg, extra);
    return {
      connection: cluster,
      prefix,
      close: () => {
        cluster.disconnect();
        return Promise.resolve();
      },
    };
  }
  // ioredis's options, which BullMQ passes to `new IORedis()`; its own type for them is narrower.
  return { connection: redisOptions(cfg, extra) as ConnectionOptions, prefix, close: () => Promise.resolve() };
}

/** Where the service connects, for logs: never the password. */
export function describeRedis(cfg: RedisConfig): Record<string, unknown> {
  return {
    mode: cfg.mode,
    ...(cfg.mode === 'single' ? { address: `${cfg.host}:${cfg.port}`, db: cfg.db } : {}),
    ...(cfg.mode === 'sentinel'
      ? { sentinels: cfg.sentinels.map((s) => `${s.host}:${s.port}`), name: cfg.sentinelName, db: cfg.db }
      : {}),
    ...(cfg.mode === 'cluster' ? { nodes: cfg.clusterNodes.map((s) => `${s.host}:${s.port}`) } : {}),
    tls: cfg.tls
      ? cfg.tlsInsecure
        ? 'on, certificate NOT checked'
        : cfg.caFile
          ? `on, CA ${cfg.caFile}`
          : 'on, system CAs'
      : 'off',
    user: cfg.username ?? 'default',
  };
}

/** Warnings to log at start (loudly): certificate checking switched off. */
export function redisConnectionWarnings(cfg: RedisConfig): string[] {
  const out: string[] = [];
  if (cfg.tls && cfg.tlsInsecure) {
    out.push(
      'REDIS_TLS_INSECURE=true: the Redis server certificate is NOT checked; anyone on the path can read and change the queue, the budget and the records. Give the CA with REDIS_TLS_CA_FILE instead.',
    );
  }
  return out;
}
