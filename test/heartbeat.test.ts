/**
 * The liveness signal for containers: a real worker and a real server write HEARTBEAT_FILE while they
 * run and remove it when stopped; the probe (dist/healthcheck.js, as the image and Kubernetes run it)
 * passes only while the file is fresh.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { checkHeartbeat, HEARTBEAT_MAX_AGE_MS } from '../src/heartbeat';
import { createLogger } from '../src/logger';
import { startServer } from '../src/server/run';
import { startSimulator, type Simulator } from '../src/simulator';
import { RescanWorker } from '../src/worker';
import { testRedisUrl, uniqueName } from './support/redis';

const PROBE = path.join(__dirname, '..', 'dist', 'healthcheck.js');
let dir: string;
let sim: Simulator;

/** Runs the probe as a container platform would: a fresh process with the container's environment. */
const probe = (env: Record<string, string>) => {
  const r = spawnSync(process.execPath, [PROBE], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: r.status, stderr: r.stderr };
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'heartbeat-'));
  sim = await startSimulator({ port: 0 });
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await sim.close();
});

test('the probe fails without a heartbeat file, and names why', () => {
  const file = path.join(dir, 'none.heartbeat');
  expect(probe({ HEARTBEAT_FILE: file })).toMatchObject({
    status: 1,
    stderr: expect.stringContaining('no heartbeat file'),
  });
  expect(probe({})).toMatchObject({ status: 1, stderr: expect.stringContaining('HEARTBEAT_FILE is not set') });
});

test('a stale or garbled file is not alive', () => {
  const file = path.join(dir, 'stale.heartbeat');
  writeFileSync(file, `${Date.now() - HEARTBEAT_MAX_AGE_MS - 1_000}\n`);
  expect(probe({ HEARTBEAT_FILE: file })).toMatchObject({ status: 1, stderr: expect.stringContaining('s old') });
  expect(checkHeartbeat(file, Date.now() - 2 * HEARTBEAT_MAX_AGE_MS)).toMatchObject({ alive: true });
  writeFileSync(file, 'hello\n');
  expect(checkHeartbeat(file)).toMatchObject({ alive: false });
});

test('a running worker keeps the probe passing; a stopped one removes the file', async () => {
  const file = path.join(dir, 'worker.heartbeat');
  const cfg = loadConfig({
    REDIS_URL: testRedisUrl(),
    QUEUE_NAME: uniqueName('hb'),
    TCSS_ENDPOINT: sim.url,
    HEARTBEAT_FILE: file,
  });
  const worker = await RescanWorker.start({ config: cfg, logger: createLogger('silent') });
  try {
    expect(probe({ HEARTBEAT_FILE: file })).toEqual({ status: 0, stderr: '' });
  } finally {
    await worker.close();
  }
  expect(existsSync(file)).toBe(false);
  expect(probe({ HEARTBEAT_FILE: file }).status).toBe(1);
});

test('the server beats too while it listens', async () => {
  const file = path.join(dir, 'server.heartbeat');
  const cfg = loadConfig({
    REDIS_URL: testRedisUrl(),
    QUEUE_NAME: uniqueName('hb'),
    SERVER_PORT: '0',
    SERVER_PASSWORD: 'pw-0123456789',
    HEARTBEAT_FILE: file,
  });
  const server = await startServer(cfg, createLogger('silent'));
  try {
    expect(probe({ HEARTBEAT_FILE: file }).status).toBe(0);
  } finally {
    await server.close();
  }
  expect(existsSync(file)).toBe(false);
});

test('HEARTBEAT_FILE must be an absolute path', () => {
  expect(() => loadConfig({ HEARTBEAT_FILE: 'relative/file' })).toThrow(
    /HEARTBEAT_FILE: expected an absolute file path/,
  );
});
