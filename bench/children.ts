/**
 * Child processes of the benchmark (simulator, workers): every one is tracked from spawn to exit, so
 * that the run can always end them, on success, on error, on Ctrl-C, and when node exits. Also reads
 * a process's CPU time and memory from /proc (Linux), which needs nothing from the process itself.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** The last few KB of stdout + stderr, for error messages. */
  tail(): string;
  /** Resolves on exit with the exit code or the signal name. */
  readonly exited: Promise<number | string>;
  /** Sends `signal` (default SIGKILL) unless the process has ended, and waits for its exit. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

const live = new Set<Child>();
const TAIL_BYTES = 4096;

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Called with each complete stdout line. */
  onLine?: (line: string) => void;
}

/** Starts `node <script> ...args` and tracks it until it exits. */
export function spawnNode(name: string, script: string, args: string[], opts: SpawnOptions): Child {
  const child = spawn(process.execPath, [script, ...args], {
    env: opts.env,
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${script})`);
  let tail = '';
  let partial = '';
  const keep = (text: string) => {
    tail = (tail + text).slice(-TAIL_BYTES);
  };
  child.stdout.on('data', (d: Buffer) => {
    const text = d.toString();
    keep(text);
    if (!opts.onLine) return;
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) opts.onLine(line);
  });
  child.stderr.on('data', (d: Buffer) => keep(d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const handle: Child = {
    name,
    process: child,
    pid: child.pid,
    tail: () => tail,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  live.add(handle);
  void exited.then(() => live.delete(handle));
  return handle;
}

/** Ends every child still running but `keep` (SIGKILL), one by one by pid, and waits for them. */
export async function stopAllChildren(keep: readonly Child[] = []): Promise<void> {
  await Promise.all([...live].filter((c) => !keep.includes(c)).map((c) => c.stop('SIGKILL')));
}

/** Last resort when node exits: synchronous SIGKILL of every child still running. */
export function killAllChildrenSync(): void {
  for (const c of live) {
    try {
      process.kill(c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat (usually 100). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU time of a process so far, in ms (utime + stime of /proc/<pid>/stat). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** Resident set size of a process now, in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}
