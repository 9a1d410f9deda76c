/**
 * A throwaway redis-server: its own free port, no persistence unless asked, its own temp dir. The test
 * suite runs on one (never on a Redis it did not start), and the demo starts one when nothing answers
 * at REDIS_URL.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RedisServerHandle {
  port: number;
  url: string;
  pid: number;
  dir: string;
  /** Stops the server (SIGKILL when `hard`), waiting for the process to exit. */
  stop(hard?: boolean): Promise<void>;
  /** Stops and starts the server on the same port; with persistence the data survives. */
  restart(hard?: boolean): Promise<void>;
}

export interface RedisServerOptions {
  /** Append-only persistence (data survives restart). Default false. */
  appendonly?: boolean;
  port?: number;
  /** More redis-server arguments, e.g. `['--requirepass', pw]` (a server that refuses PING still counts as up). */
  args?: string[];
}

export function redisServerBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const bin = found.stdout.trim();
  if (found.status !== 0 || bin === '') {
    throw new Error(
      'redis-server was not found on the PATH. The tests start their own throwaway Redis and need the binary: ' +
        'install it with `apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis` (macOS), ' +
        'or run `bash .ci/run`, which installs it.',
    );
  }
  return bin;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.write('PING\r\n');
        sock.once('data', (d) => {
          sock.destroy();
          resolve(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH'));
        });
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const bin = redisServerBinary();
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcss-rescan-redis-'));
  let child: ChildProcess;

  const launch = async (): Promise<void> => {
    child = spawn(
      bin,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        opts.appendonly ? 'yes' : 'no',
        '--appendfsync',
        'always',
        '--maxmemory-policy',
        'noeviction',
        '--protected-mode',
        'no',
        '--loglevel',
        'warning',
        ...(opts.args ?? []),
      ],
      { stdio: 'ignore', detached: false },
    );
    await waitForPort(port, 10_000);
  };
  await launch();

  const stop = async (hard = false): Promise<void> => {
    const c = child;
    if (c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill(hard ? 'SIGKILL' : 'SIGTERM');
    });
  };

  const handle: RedisServerHandle = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid ?? -1;
    },
    dir,
    stop: async (hard) => {
      await stop(hard);
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async (hard) => {
      await stop(hard);
      await launch();
    },
  };
  return handle;
}

/** Whether a Redis answers PING at `url` within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  const u = new URL(url);
  if (u.protocol !== 'redis:') return true; // TLS or auth: let the client find out and say so.
  const port = Number(u.port || 6379);
  const host = u.hostname || '127.0.0.1';
  return new Promise<boolean>((resolve) => {
    const sock = net.connect(port, host);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(false);
    }, timeoutMs);
    sock.once('connect', () => {
      sock.write(
        u.password
          ? `AUTH ${decodeURIComponent(u.username || 'default')} ${decodeURIComponent(u.password)}\r\nPING\r\n`
          : 'PING\r\n',
      );
    });
    sock.on('data', (d) => {
      if (d.toString().includes('+PONG') || d.toString().includes('NOAUTH')) {
        clearTimeout(timer);
        sock.destroy();
        resolve(true);
      }
    });
    sock.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}
