/**
 * Fault injection: the faults now in force (changeable while the simulator runs, with `setFaults` or
 * `POST /_sim/faults`) and the decisions they make for one request: arrival jitter, an injected error,
 * a hang, the answer's latency. The request path asks; the faults decide.
 */
import type { ResolvedSimulatorOptions, SimulatorFaults } from './options';

/** The faults as `faults()` and `GET /_sim/faults` show them: each key's SecretId and UIN, never its SecretKey. */
export type PublicFaults = Omit<Required<SimulatorFaults>, 'credentials'> & {
  credentials: { secretId: string; uin?: string }[];
};

const API_ERROR_MESSAGES: Record<string, string> = {
  InternalError: 'An internal error has occurred. Retry your request, but if the problem persists, contact us.',
};

/** The fault options out of the resolved options (the rest are fixed at start). */
export function pickFaults(opts: ResolvedSimulatorOptions): Required<SimulatorFaults> {
  const {
    host: _host,
    port: _port,
    firstTaskId: _first,
    maxBodyBytes: _max,
    controlToken: _token,
    allowedHosts: _hosts,
    maxCalls: _maxCalls,
    ...faults
  } = opts;
  return faults;
}

export class FaultInjector {
  private current: Required<SimulatorFaults>;

  constructor(initial: Required<SimulatorFaults>) {
    this.current = initial;
  }

  /** The faults now in force (replaced as a whole by `apply`: read it at each use, do not keep it). */
  get settings(): Readonly<Required<SimulatorFaults>> {
    return this.current;
  }

  /** Applies faults already validated (parseSimulatorFaults) over the current ones. */
  apply(next: SimulatorFaults): void {
    this.current = { ...this.current, ...next };
  }

  toPublic(): PublicFaults {
    const faults = this.current;
    return {
      ...faults,
      credentials: faults.credentials.map(({ secretId, uin }) => ({ secretId, ...(uin !== undefined ? { uin } : {}) })),
    };
  }

  /** arrivalJitterMs: the request "arrives" (is counted) up to that many ms after it was received. */
  arrivalJitterMs(): number {
    return this.current.arrivalJitterMs > 0 ? Math.random() * this.current.arrivalJitterMs : 0;
  }

  /**
   * The error injected into a TCSS call that passed auth and the rate limit (so it spent budget):
   * forcedErrors for its CustomerPolicyItemId first, then errorRate; undefined for none.
   */
  injectedError(rawPolicyItemId: string | undefined): { code: string; message: string } | undefined {
    const forced = this.current.forcedErrors[rawPolicyItemId ?? ''];
    if (forced !== undefined) {
      return { code: forced, message: `Simulated ${forced} for this CustomerPolicyItemId (forcedErrors).` };
    }
    if (this.current.errorRate > 0 && Math.random() < this.current.errorRate) {
      const code = this.current.errorCode;
      return { code, message: API_ERROR_MESSAGES[code] ?? `Simulated ${code} (errorRate).` };
    }
    return undefined;
  }

  /** hangRate: whether this call is never answered. */
  hangs(): boolean {
    return this.current.hangRate > 0 && Math.random() < this.current.hangRate;
  }

  /** latencyMs plus up to latencyJitterMs: how long to wait before answering. */
  answerDelayMs(): number {
    return this.current.latencyMs + Math.random() * this.current.latencyJitterMs;
  }
}
