/** The REDIS section: the set-up (single, Sentinel, Cluster) and TLS, with problems across variables. */
import { readFileSync } from 'node:fs';
import { shown } from './errors';
import type { Env } from './schema';
import type { RedisConfig } from './types';

/** The RedisConfig of a parsed environment; undefined after adding to `problems` what is wrong. */
export function checkRedis(e: Env, problems: string[]): RedisConfig | undefined {
  const u = new URL(e.REDIS_URL);
  const tls = u.protocol === 'rediss:';
  const sentinels = e.REDIS_SENTINELS ?? [];
  const clusterNodes = e.REDIS_CLUSTER_NODES ?? [];
  const before = problems.length;
  if (sentinels.length > 0 && clusterNodes.length > 0) {
    problems.push('REDIS_CLUSTER_NODES: expected either REDIS_SENTINELS or REDIS_CLUSTER_NODES, got both');
  }
  if (sentinels.length > 0 && e.REDIS_SENTINEL_NAME === undefined) {
    problems.push(
      'REDIS_SENTINELS: expected REDIS_SENTINEL_NAME to be set too (the name of the primary the sentinels monitor, as in `sentinel monitor <name> ...`), got nothing',
    );
  }
  if (sentinels.length === 0 && e.REDIS_SENTINEL_NAME !== undefined) {
    problems.push(
      'REDIS_SENTINEL_NAME: expected REDIS_SENTINELS (host:port of the sentinels) to be set too, got nothing',
    );
  }
  const dbPath = u.pathname.replace(/^\//, '');
  if (dbPath !== '' && !/^\d{1,2}$/.test(dbPath))
    problems.push(`REDIS_URL: expected a database number as the path (e.g. /0), got ${JSON.stringify('/' + dbPath)}`);
  const db = dbPath === '' ? 0 : Number(dbPath);
  if (clusterNodes.length > 0 && db !== 0)
    problems.push(`REDIS_URL: expected database 0 with REDIS_CLUSTER_NODES (a cluster has only db 0), got ${db}`);
  if (!tls && (e.REDIS_TLS_CA_FILE !== undefined || e.REDIS_TLS_INSECURE)) {
    problems.push(
      `${e.REDIS_TLS_CA_FILE !== undefined ? 'REDIS_TLS_CA_FILE' : 'REDIS_TLS_INSECURE'}: expected REDIS_URL to start with rediss:// (TLS), got ${shown('REDIS_URL', e.REDIS_URL)}`,
    );
  }
  let ca: string | undefined;
  if (e.REDIS_TLS_CA_FILE !== undefined) {
    try {
      ca = readFileSync(e.REDIS_TLS_CA_FILE, 'utf8');
      if (!ca.includes('-----BEGIN CERTIFICATE-----'))
        problems.push(
          `REDIS_TLS_CA_FILE: expected a PEM file with at least one certificate, got ${JSON.stringify(e.REDIS_TLS_CA_FILE)} without one`,
        );
    } catch (err) {
      problems.push(
        `REDIS_TLS_CA_FILE: expected a readable PEM file, got ${JSON.stringify(e.REDIS_TLS_CA_FILE)} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      );
    }
  }
  if (problems.length > before) return undefined;
  return {
    mode: clusterNodes.length > 0 ? 'cluster' : sentinels.length > 0 ? 'sentinel' : 'single',
    host: u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: u.port === '' ? 6379 : Number(u.port),
    db,
    ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}),
    tls,
    ...(ca !== undefined ? { ca, caFile: e.REDIS_TLS_CA_FILE } : {}),
    tlsInsecure: e.REDIS_TLS_INSECURE,
    sentinels,
    ...(e.REDIS_SENTINEL_NAME !== undefined ? { sentinelName: e.REDIS_SENTINEL_NAME } : {}),
    ...(e.REDIS_SENTINEL_PASSWORD !== undefined ? { sentinelPassword: e.REDIS_SENTINEL_PASSWORD } : {}),
    clusterNodes,
  };
}
