/** Runs `tcss-rescan worker` (the built CLI) as a real child process, keeping its JSON log lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');

export interface WorkerProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  /** Raw stdout + stderr text so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  /** Resolves when a log line matches. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export function startWorkerProcess(env: Record<string, string>, args: string[] = []): WorkerProcess {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('TENCENTCLOUD_') && !k.startsWith('TCSS_') && !k.startsWith('SIM_'),
    ),
  );
  const child = spawn(process.execPath, [CLI, 'worker', ...args], {
    env: { ...clean, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let text = '';
  let buffered = '';
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] =
    [];
  child.stdout.on('data', (d: Buffer) => {
    text += d.toString();
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const obj = JSON.parse(line) as Record<string, unknown>;
        logs.push(obj);
        for (const w of [...waiters]) {
          if (w.match(obj)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(obj);
          }
        }
      } catch {
        // not JSON: kept in output()
      }
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    text += d.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    logs,
    output: () => text,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    waitForLog(match, timeoutMs = 20_000) {
      const found = logs.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching log line within ${timeoutMs} ms; output:\n${text.slice(-3000)}`)),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}
