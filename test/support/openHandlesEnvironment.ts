/**
 * The test environment of every suite (jest.config.js): Node's, plus a check that each test file closes
 * what it opened. After the file's last afterAll hook (circus's `run_finish`), the resources that keep the
 * event loop alive (process.getActiveResourcesInfo(): timers, sockets, servers, child processes, ...)
 * are compared with those alive before the file ran, which are jest's own (its IPC channel, its
 * streams). Anything more, still there after a grace period for connections that are closing, fails the
 * file with the list. Unref'd timers and sockets are not counted: they do not hold a process open.
 *
 * The list names sockets, servers and child processes. A timer is only counted; LEAK_TRACE=1 records
 * where each timer was created (async_hooks, slower) and prints that too.
 */
import { createHook, type AsyncHook } from 'node:async_hooks';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import { TestEnvironment } from 'jest-environment-node';

/** How long closing connections get to go away before they count as left open. */
const GRACE_MS = 3000;

type Counts = Map<string, number>;

function count(types: string[]): Counts {
  const c: Counts = new Map();
  for (const t of types) c.set(t, (c.get(t) ?? 0) + 1);
  return c;
}

/** Resource types (with how many) now alive beyond the baseline. */
function extra(baseline: Counts): [string, number][] {
  return [...count(process.getActiveResourcesInfo())]
    .map(([t, n]): [string, number] => [t, n - (baseline.get(t) ?? 0)])
    .filter(([, n]) => n > 0);
}

/** process._getActiveHandles(): undocumented but stable since Node 0.x; the only way to name a leaked socket. */
function activeHandles(): object[] {
  return (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
}

function hasRef(h: object): boolean {
  const handle = (h as { _handle?: { hasRef?: () => boolean } })._handle;
  return typeof handle?.hasRef === 'function' ? handle.hasRef() : true;
}

function describeHandle(h: object): string {
  if (h instanceof net.Server) {
    const a = h.address();
    return `server listening on ${typeof a === 'string' ? a : a ? `${a.address}:${a.port}` : '?'}`;
  }
  if (h instanceof net.Socket) {
    return h.remotePort !== undefined
      ? `socket ${h.localAddress}:${h.localPort} -> ${h.remoteAddress}:${h.remotePort}`
      : 'pipe or stdio stream';
  }
  const child = h as Partial<ChildProcess>;
  if (typeof child.pid === 'number' && Array.isArray(child.spawnargs))
    return `child process ${child.pid}: ${child.spawnargs.join(' ').slice(0, 160)}`;
  return h.constructor.name;
}

export default class OpenHandlesEnvironment extends TestEnvironment {
  private baseline: Counts = new Map();
  private baselineHandles = new Set<object>();
  private readonly testPath: string;
  private readonly timerStacks = new Map<number, { resource: { hasRef?: () => boolean }; stack: string }>();
  private hook: AsyncHook | undefined;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.testPath = context.testPath;
  }

  override async setup(): Promise<void> {
    await super.setup();
    this.baseline = count(process.getActiveResourcesInfo());
    this.baselineHandles = new Set(activeHandles());
    if (process.env.LEAK_TRACE === '1') {
      const stacks = this.timerStacks;
      this.hook = createHook({
        init(id, type, _trigger, resource) {
          if (type !== 'Timeout') return;
          // Node's own frames (async_hooks, timers) say nothing; the grace period's own timers are not the file's.
          const frames = (new Error().stack ?? '')
            .split('\n')
            .slice(2)
            .filter((f) => !/\(node:|at node:/.test(f));
          if (frames[0]?.includes('openHandlesEnvironment')) return;
          stacks.set(id, { resource: resource, stack: frames.slice(0, 6).join('\n') });
        },
        destroy(id) {
          stacks.delete(id);
        },
      }).enable();
    }
  }

  async handleTestEvent(event: Circus.Event, state: Circus.State): Promise<void> {
    if (event.name !== 'run_finish') return;
    const deadline = Date.now() + GRACE_MS;
    let left = extra(this.baseline);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      left = extra(this.baseline);
    }
    this.hook?.disable();
    if (left.length === 0) return;
    const named = activeHandles()
      .filter((h) => !this.baselineHandles.has(h) && hasRef(h))
      .map(describeHandle);
    const timers = [...this.timerStacks.values()]
      .filter((t) => t.resource.hasRef?.() !== false)
      .map((t) => `timer created at\n${t.stack}`);
    const lines = [...named, ...timers];
    const error = new Error(
      `${this.testPath} left open after its last test: ${left.map(([t, n]) => `${t} x${n}`).join(', ')}` +
        (lines.length > 0 ? `\n  - ${lines.join('\n  - ')}` : '') +
        (left.some(([t]) => t === 'Timeout') && process.env.LEAK_TRACE !== '1'
          ? '\n(rerun with LEAK_TRACE=1 to see where timers were created)'
          : ''),
    );
    error.stack = '';
    state.unhandledErrors.push(error);
  }

  override async teardown(): Promise<void> {
    this.hook?.disable();
    await super.teardown();
  }
}
