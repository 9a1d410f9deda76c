/**
 * The TCSS simulator in its own process (`tcss-rescan simulator`), so that its arrival timestamps are
 * not delayed by the benchmark's own work, and the `/_sim/*` read-back over HTTP.
 */
import { randomBytes } from 'node:crypto';
import type { SimulatorCall, SimulatorFaults, SimulatorStats } from '../src/simulator';
import { spawnNode, type Child } from './children';

export interface SimulatorProcess {
  readonly url: string;
  readonly child: Child;
  stats(): Promise<SimulatorStats>;
  calls(sinceSeq?: number): Promise<SimulatorCall[]>;
  reset(): Promise<void>;
  setFaults(faults: SimulatorFaults): Promise<void>;
}

export interface SimulatorProcessOptions {
  cli: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  latencyMs: number;
  rateLimit: number;
}

async function fetchJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export async function startSimulatorProcess(o: SimulatorProcessOptions): Promise<SimulatorProcess> {
  let resolveUrl: (url: string) => void = () => undefined;
  const urlSeen = new Promise<string>((resolve) => (resolveUrl = resolve));
  // /_sim/* needs the control token: ours, handed over in the environment (not on the command line).
  const token = randomBytes(24).toString('base64url');
  const auth = { Authorization: `Bearer ${token}` };
  const child = spawnNode(
    'simulator',
    o.cli,
    ['simulator', '--port', '0', '--rate-limit', String(o.rateLimit), '--latency-ms', String(o.latencyMs)],
    {
      env: { ...o.env, SIM_CONTROL_TOKEN: token },
      cwd: o.cwd,
      onLine: (line) => {
        const m = /^TCSS simulator listening on (http:\/\/\S+)/.exec(line);
        if (m?.[1]) resolveUrl(m[1]);
      },
    },
  );
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`the simulator did not start within 15 s:\n${child.tail()}`)), 15_000).unref(),
  );
  const exited = child.exited.then((code) => {
    throw new Error(`the simulator exited (${code}) before listening:\n${child.tail()}`);
  });
  const url = await Promise.race([urlSeen, timeout, exited]);
  exited.catch(() => undefined);

  return {
    url,
    child,
    stats: () => fetchJson<SimulatorStats>(`${url}/_sim/stats`, { headers: auth }),
    calls: (sinceSeq = 0) => fetchJson<SimulatorCall[]>(`${url}/_sim/calls?since=${sinceSeq}`, { headers: auth }),
    reset: async () => {
      await fetchJson(`${url}/_sim/reset`, { method: 'POST', headers: auth });
    },
    setFaults: async (faults) => {
      await fetchJson(`${url}/_sim/faults`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify(faults),
      });
    },
  };
}
