/**
 * Everything one simulator instance holds, made once at start and passed to the parts that need it
 * (the gateway, the API request, the handle) instead of being shared through one closure.
 */
import { KeyRegistry } from './accounts';
import { BackgroundLoad } from './backgroundLoad';
import { CallLog } from './callLog';
import { FaultInjector, pickFaults } from './faults';
import { Lifecycle } from './lifecycle';
import type { ResolvedSimulatorOptions } from './options';
import { RateCounter } from './rateCounter';
import { TaskIds } from './scanAction';
import { monotonicClock, type Clock } from './slidingWindow';

export interface SimulatorState {
  /** The options as resolved at start (the faults among them are only the initial ones: see `faults`). */
  readonly opts: ResolvedSimulatorOptions;
  readonly clock: Clock;
  readonly faults: FaultInjector;
  /** The keys it knows, long-lived and temporary, and whom each belongs to. */
  readonly keys: KeyRegistry;
  readonly rate: RateCounter;
  readonly background: BackgroundLoad;
  readonly log: CallLog;
  readonly taskIds: TaskIds;
  readonly lifecycle: Lifecycle;
}

export function createSimulatorState(opts: ResolvedSimulatorOptions): SimulatorState {
  const clock = monotonicClock;
  const faults = new FaultInjector(pickFaults(opts));
  const keys = new KeyRegistry(faults.settings.credentials);
  const rate = new RateCounter(faults.settings.rateLimit, faults.settings.countThrottled, clock);
  const principals = (): string[] => [
    ...new Set(
      faults.settings.credentials
        .map((c) => keys.lookup(c.secretId)?.principal)
        .filter((p): p is string => p !== undefined),
    ),
  ];
  const background = new BackgroundLoad({ faults: () => faults.settings, principals, rate, clock });
  return {
    opts,
    clock,
    faults,
    keys,
    rate,
    background,
    log: new CallLog(opts.maxCalls),
    taskIds: new TaskIds(opts.firstTaskId),
    lifecycle: new Lifecycle(),
  };
}
