/**
 * Throwaway production-like Redis set-ups for tests, all on loopback and free ports, each in its own
 * temp dir, every process killed by `stop()`:
 *
 * - startTlsRedis: TLS only (certificates made here with openssl: a self-signed CA and a server
 *   certificate for 127.0.0.1), ACL users given as `user` lines; a plain admin port for the test.
 * - startSentinelSet: one primary, one replica, three sentinels (quorum 2).
 * - startCluster: `primaries` primaries with `replicas` replicas each (redis-cli --cluster create).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import IORedis, { type Redis } from 'ioredis';
import { freePort, redisServerBinary } from '../../src/redisServer';
import { sleep, waitFor } from './redis';

/** A redis-server (or sentinel) process we started. */
export class RedisProc {
  child: ChildProcess;
  constructor(
    readonly port: number,
    readonly args: string[],
  ) {
    this.child = RedisProc.spawn(args);
  }

  private static spawn(args: string[]): ChildProcess {
    const c = spawn(redisServerBinary(), args, { stdio: 'ignore' });
    c.on('error', () => undefined);
    return c;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }

  /** Starts the same process again (same port, same files). */
  restart(): void {
    this.child = RedisProc.spawn(this.args);
  }
}

/** Polls until a client on `port` answers PING (`password` for the default user, if any). */
export async function waitForRedis(port: number, password?: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = new IORedis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      ...(password ? { password } : {}),
    });
    c.on('error', () => undefined);
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') return;
    } catch {
      // not yet
    } finally {
      c.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`redis on port ${port} did not answer within ${timeoutMs} ms`);
    await sleep(100);
  }
}

const BASE_ARGS = (port: number, dir: string) => [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--dir',
  dir,
  '--protected-mode',
  'no',
  '--loglevel',
  'warning',
  // A replica's first sync starts at once, not after Redis 7's default 5 s wait for more replicas.
  '--repl-diskless-sync-delay',
  '0',
];

/** Runs `fn` on a short-lived client of the node on `port`, and disconnects it. */
async function withNode<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = new IORedis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
  try {
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

/**
 * Polls until every replica on `ports` has finished its first sync and its link to the primary is up.
 * Until then a failover would promote an empty replica: every job and record lost, not what a test of
 * a failover means to measure (seen: a kill 4 s after start, the replica still in `wait_bgsave`).
 */
export async function waitForReplicasInSync(ports: number[], timeoutMs = 20_000): Promise<void> {
  const inSync = (port: number) =>
    withNode(port, async (c) => {
      const info = await c.info('replication');
      return /master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info);
    }).catch(() => false);
  await waitFor(
    async () => (await Promise.all(ports.map(inSync))).every(Boolean),
    timeoutMs,
    100,
    `replicas ${ports.join(', ')} to finish their sync`,
  );
}

// --- TLS and ACL ---------------------------------------------------------------------------------

export interface TlsRedis {
  tlsPort: number;
  /** Plain port for the test itself, default user with `adminPassword`. */
  adminPort: number;
  adminPassword: string;
  caFile: string;
  /** An admin client on the plain port. */
  admin: Redis;
  stop(): Promise<void>;
}

/** A CA and a server certificate for 127.0.0.1 / localhost, made with openssl in `dir`. */
export function makeCertificates(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=tcss-rescan test CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
  );
  ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    f('redis.key'),
    '-out',
    f('redis.csr'),
  );
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl(
    'x509',
    '-req',
    '-in',
    f('redis.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('san.ext'),
    '-out',
    f('redis.crt'),
  );
  return { caFile: f('ca.crt'), certFile: f('redis.crt'), keyFile: f('redis.key') };
}

/** redis-server with TLS on `tlsPort` and the ACL `users` (redis.conf `user` lines). */
export async function startTlsRedis(users: string[]): Promise<TlsRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcss-rescan-tls-'));
  const { caFile, certFile, keyFile } = makeCertificates(dir);
  const [adminPort, tlsPort] = [await freePort(), await freePort()];
  const adminPassword = 'admin-' + Math.random().toString(36).slice(2);
  const conf = path.join(dir, 'redis.conf');
  writeFileSync(
    conf,
    [
      `tls-port ${tlsPort}`,
      `tls-cert-file ${certFile}`,
      `tls-key-file ${keyFile}`,
      `tls-ca-cert-file ${caFile}`,
      'tls-auth-clients no',
      'save ""',
      'appendonly no',
      'maxmemory-policy noeviction',
      `user default on >${adminPassword} ~* &* +@all`,
      ...users.map((u) => `user ${u}`),
      '',
    ].join('\n'),
  );
  const proc = new RedisProc(adminPort, [conf, ...BASE_ARGS(adminPort, dir)]);
  await waitForRedis(adminPort, adminPassword);
  const admin = new IORedis({
    host: '127.0.0.1',
    port: adminPort,
    password: adminPassword,
    maxRetriesPerRequest: null,
  });
  return {
    tlsPort,
    adminPort,
    adminPassword,
    caFile,
    admin,
    stop: async () => {
      admin.disconnect();
      await proc.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- Sentinel --------------------------------------------------------------------------------------

export interface SentinelSet {
  name: string;
  primary: RedisProc;
  replica: RedisProc;
  sentinels: RedisProc[];
  /** `host:port,...` for REDIS_SENTINELS. */
  sentinelList: string;
  /** The port of the primary as the sentinels see it now. */
  currentPrimaryPort(): Promise<number>;
  stop(): Promise<void>;
}

export interface SentinelOptions {
  /** Sentinel `down-after-milliseconds`. Default 1000. */
  downAfterMs?: number;
}

export async function startSentinelSet(o: SentinelOptions = {}): Promise<SentinelSet> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcss-rescan-sentinel-'));
  const name = 'tcssprimary';
  const pPort = await freePort();
  const rPort = await freePort();
  const dataArgs = (port: number, sub: string) => {
    const d = path.join(dir, sub);
    execFileSync('mkdir', ['-p', d]);
    return [...BASE_ARGS(port, d), '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'];
  };
  const primary = new RedisProc(pPort, dataArgs(pPort, 'p'));
  const replica = new RedisProc(rPort, [...dataArgs(rPort, 'r'), '--replicaof', '127.0.0.1', String(pPort)]);
  await waitForRedis(pPort);
  await waitForRedis(rPort);
  await waitForReplicasInSync([rPort]);
  const sentinels: RedisProc[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const conf = path.join(dir, `sentinel-${i}.conf`);
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${pPort} 2`,
        `sentinel down-after-milliseconds ${name} ${o.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${name} 5000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    sentinels.push(new RedisProc(port, [conf, '--sentinel']));
  }
  for (const s of sentinels) await waitForRedis(s.port);
  // Wait until every sentinel knows the replica (else a failover has no candidate).
  const knowsReplica = (port: number) =>
    withNode(port, async (c) => {
      const replicas = (await c.call('SENTINEL', 'REPLICAS', name)) as string[][];
      return replicas.some((r) => r.includes(String(rPort)) && r[r.indexOf('flags') + 1] === 'slave');
    }).catch(() => false);
  await waitFor(
    async () => (await Promise.all(sentinels.map((s) => knowsReplica(s.port)))).every(Boolean),
    20_000,
    200,
    'the sentinels to discover the replica',
  );
  return {
    name,
    primary,
    replica,
    sentinels,
    sentinelList: sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    currentPrimaryPort: async () => {
      for (const s of sentinels) {
        if (!s.alive) continue;
        try {
          const addr = await withNode(s.port, (c) => c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name));
          return Number((addr as string[])[1]);
        } catch {
          // ask the next one
        }
      }
      throw new Error('no sentinel answered');
    },
    stop: async () => {
      await Promise.all([primary, replica, ...sentinels].map((p) => p.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- Cluster ---------------------------------------------------------------------------------------

export interface ClusterSet {
  nodes: RedisProc[];
  /** `host:port,...` of every node, for REDIS_CLUSTER_NODES. */
  nodeList: string;
  /** The node (process) serving `key`'s slot as primary now. */
  primaryFor(key: string): Promise<RedisProc>;
  stop(): Promise<void>;
}

export async function startCluster(primaries = 3, replicas = 0): Promise<ClusterSet> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcss-rescan-cluster-'));
  const nodes: RedisProc[] = [];
  for (let i = 0; i < primaries * (1 + replicas); i++) {
    const port = await freePort();
    const d = path.join(dir, String(port));
    execFileSync('mkdir', ['-p', d]);
    nodes.push(
      new RedisProc(port, [
        ...BASE_ARGS(port, d),
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        path.join(d, 'nodes.conf'),
        '--cluster-node-timeout',
        '1000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'noeviction',
      ]),
    );
  }
  const stop = async () => {
    await Promise.all(nodes.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const n of nodes) await waitForRedis(n.port);
    execFileSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      { stdio: 'pipe' },
    );
    await waitFor(
      async () =>
        (
          await Promise.all(
            nodes.map((n) =>
              withNode(n.port, async (c) => /cluster_state:ok/.test(String(await c.call('CLUSTER', 'INFO')))),
            ),
          )
        ).every(Boolean),
      30_000,
      200,
      'the cluster to reach cluster_state:ok',
    );
    const replicaPorts = await Promise.all(
      nodes.map((n) =>
        withNode(n.port, async (c) => (/role:slave/.test(await c.info('replication')) ? n.port : undefined)),
      ),
    );
    await waitForReplicasInSync(replicaPorts.filter((p): p is number => p !== undefined));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    nodes,
    nodeList: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    primaryFor: async (key: string) => {
      for (const n of nodes) {
        if (!n.alive) continue;
        const port = await withNode(n.port, async (c) => {
          const slot = Number(await c.call('CLUSTER', 'KEYSLOT', key));
          const shards = (await c.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
          return shards.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1];
        });
        const p = nodes.find((x) => x.port === port);
        if (p) return p;
      }
      throw new Error(`no node serves the slot of ${key}`);
    },
    stop,
  };
}
