/**
 * Warm-up before a worker takes its first budget slot, so that its first calls leave on time.
 *
 * A fresh process pays, on its first call, for a DNS lookup, the TCP (and TLS) handshake, and the first
 * run of the SDK's code path (signing, JSON, node-fetch, the response), none of which the budget sees:
 * the call takes its slot on time and leaves tens of ms late, closer to the calls after it. With four
 * fresh processes that is enough for 21 arrivals in one second (issue 9).
 *
 * So the worker sends one request through the very same SDK path and keep-alive agent before it
 * starts, to a path that is not the API (`POST /` is the API; this posts to WARM_UP_PATH, without an
 * action), so it spends no call of anyone's budget. Its answer (a 404 from the gateway or the
 * simulator) is read to the end, which leaves the connection open in the agent's pool for the first
 * real call. Whatever goes wrong here only costs the first call its head start: it is logged, never fatal.
 */
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import { sendSigned } from './sdkClient';
import { errorMessage } from '../redact';

export const WARM_UP_PATH = '/tcss-rescan-warm-up';

export interface WarmUpTarget {
  /** `https://host[:port]` */
  origin: string;
  agent: http.Agent;
  service: string;
  version: string;
  timeoutMs: number;
}

/** Returns how long the warm-up took (ms) and the HTTP status seen, or the error's message. */
export async function warmUp(t: WarmUpTarget): Promise<{ ms: number; status?: number; error?: string }> {
  const started = performance.now();
  try {
    // Signed as a real call is (same code, same cost), with a key that is not ours: nothing is called.
    const res = await sendSigned({
      method: 'POST',
      url: `${t.origin}${WARM_UP_PATH}`,
      secretId: 'AKIDtcssRescanWarmUp',
      secretKey: 'warm-up',
      region: '',
      data: {},
      service: t.service,
      action: '',
      version: t.version,
      timeout: Math.min(t.timeoutMs, 5000),
      token: '',
      requestClient: 'tcss-rescan-warm-up',
      language: '',
      agent: t.agent,
    });
    await res.text();
    return { ms: performance.now() - started, status: res.status };
  } catch (err) {
    return { ms: performance.now() - started, error: errorMessage(err) };
  }
}
