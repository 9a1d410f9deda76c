/**
 * The simulator's handle: what code holding it (and, through the control routes, a client with the
 * control token) can read back and change. Never a secret key.
 */
import type { Server } from 'node:http';
import type { SimulatorCall } from './callLog';
import type { PublicFaults } from './faults';
import { parseSimulatorFaults, type SimulatorFaults } from './options';
import { closeServer } from './server';
import type { SimulatorState } from './state';
import { computeStats, type SimulatorStats } from './stats';

export interface Simulator {
  /** e.g. `http://127.0.0.1:4010` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The bearer token `/_sim/*` requires (`Authorization: Bearer <token>`). */
  readonly controlToken: string;
  /** Why the simulator is exposed, when it is (also emitted as a process warning at start). */
  readonly warnings: readonly string[];
  /** Calls with `seq > sinceSeq` (default all), in seq order. */
  calls(sinceSeq?: number): SimulatorCall[];
  stats(windowMs?: number): SimulatorStats;
  /** The faults now in force, secret keys left out. */
  faults(): PublicFaults;
  /** STS calls (GetCallerIdentity, AssumeRole), kept apart from the TCSS calls; capped like them. */
  stsCalls(): SimulatorCall[];
  /** Validates and applies a partial set of faults; throws SimulatorOptionsError naming a bad one. */
  setFaults(faults: SimulatorFaults): void;
  /** Clears the call log, the windows and the counters (TaskIds and seq keep counting). */
  reset(): void;
  /** Stops listening and destroys every connection, hung ones included. */
  close(): Promise<void>;
}

/** The handle before it listens (`url` and `port` are filled in once it does). */
export function createHandle(
  state: SimulatorState,
  server: Server,
  controlToken: string,
  warnings: readonly string[],
): Simulator {
  const { background, faults, log } = state;
  return {
    url: '',
    host: state.opts.host,
    port: 0,
    controlToken,
    warnings,
    calls: (sinceSeq = 0) => log.calls(sinceSeq),
    stsCalls: () => log.stsCalls(),
    stats: (windowMs = 1000) => {
      background.catchUp(state.clock());
      return computeStats(log.kept, background, log.dropped, windowMs);
    },
    faults: () => faults.toPublic(),
    setFaults: (partial) => setFaults(state, partial),
    reset: () => {
      log.reset();
      state.rate.reset();
      background.reset();
    },
    close: async () => {
      if (!state.lifecycle.close()) return;
      background.stop();
      await closeServer(server);
    },
  };
}

function setFaults(state: SimulatorState, partial: SimulatorFaults): void {
  const { background, faults } = state;
  const next = parseSimulatorFaults(partial);
  // Background arrivals due so far happened under the old faults.
  background.catchUp(state.clock());
  const backgroundChanged = next.backgroundRps !== undefined && next.backgroundRps !== faults.settings.backgroundRps;
  faults.apply(next);
  if (next.credentials !== undefined) state.keys.setCredentials(faults.settings.credentials);
  state.rate.configure(faults.settings.rateLimit, faults.settings.countThrottled);
  if (backgroundChanged) background.restart();
}
