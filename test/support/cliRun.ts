/** Runs the built CLI (dist/cli.js) as a child process against the suite's Redis and a queue of its own. */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { CONFIG_VARIABLES } from '../../src/config';
import { testRedisUrl } from './redis';

export const CLI_PATH = path.join(__dirname, '..', '..', 'dist', 'cli.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** QUEUE_NAME for the child. */
  queueName: string;
  /** Working directory: give it a directory of its own so no stray `.env` is read. */
  cwd: string;
  /** Written to the child's stdin. */
  input?: string;
  /** Extra variables (after the defaults, so they win). */
  env?: Record<string, string>;
}

/**
 * The child's environment: this process's, minus every variable the service reads (so nothing from the
 * developer's shell leaks in, and never TENCENTCLOUD_*), plus the suite's Redis and the given queue.
 */
export function cliEnv(queueName: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (CONFIG_VARIABLES.includes(name) || name.startsWith('TENCENTCLOUD_')) delete env[name];
  return { ...env, REDIS_URL: testRedisUrl(), QUEUE_NAME: queueName, LOG_LEVEL: 'silent', ...extra };
}

export function runCli(args: string[], o: CliOptions): CliResult {
  const r = spawnSync(process.execPath, [CLI_PATH, ...args], {
    cwd: o.cwd,
    env: cliEnv(o.queueName, o.env),
    input: o.input ?? '',
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** As runCli, without blocking: for tests that run several commands side by side. */
export function runCliAsync(args: string[], o: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: o.cwd,
      env: cliEnv(o.queueName, o.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(o.input ?? '');
  });
}

/** The non-empty lines of an output, each parsed as JSON. */
export function jsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}
