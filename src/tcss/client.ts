/**
 * The TCSS client: ScanComplianceAssetsByPolicyItem through the official SDK's CommonClient, signed
 * for service `tcss` whatever the endpoint (sdkClient.ts), with keys from the configured credential
 * provider (credentials.ts), asked before every call so that temporary keys are renewed in time.
 */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import type { TcssConfig } from '../config';
import type { AssetType } from '../job';
import { errorMessage } from '../redact';
import { createCredentials, CredentialsUnavailableError, type WatchedCredentials } from './credentials';
import { ruleFor, type ErrorAction, type ErrorScope } from './errorTable';
import { parseExactAnswer, type AnswerLike, type ExactAnswer } from './exactResponse';
import { createSdkClient } from './sdkClient';
import { warmUp } from './warmUp';

export const TCSS_SERVICE = 'tcss';
export const TCSS_VERSION = '2020-11-01';
export const SCAN_ACTION = 'ScanComplianceAssetsByPolicyItem';

export interface ScanParams {
  policyItemId: number;
  assetIds: number[];
  assetType?: AssetType;
}

export interface ScanOk {
  /** Exact: a number up to 2^53-1, the decimal text beyond (see exactResponse.ts). */
  taskId: number | string;
  requestId: string;
  latencyMs: number;
}

/**
 * A failed call, with the Tencent error code (or NetworkError / Timeout / HttpError for faults below the
 * API), its RequestId when the API gave one, and what the error table says to do about it.
 */
export class TcssApiError extends Error {
  override readonly name = 'TcssApiError';
  readonly action: ErrorAction;
  /** Whom the answer is about: one member of a merged call (job), the call, or the account. */
  readonly scope: ErrorScope;
  constructor(
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
    readonly latencyMs: number,
    readonly httpStatus?: number,
  ) {
    super(`${code}: ${message}`);
    const rule = ruleFor(code);
    this.action = rule.action;
    this.scope = rule.scope;
  }
}

export interface TcssClient {
  scan(params: ScanParams): Promise<ScanOk>;
  /** Opens the connection and runs the SDK's path once, calling nothing (warmUp.ts). */
  warmUp(): Promise<{ ms: number; status?: number; error?: string }>;
  close(): void;
}

/** Our code for a success answer without a readable TaskId (see the error table). */
export const UNEXPECTED_ANSWER = 'UnexpectedAnswer';

function describeTaskId(v: unknown): string {
  if (v === undefined) return 'TaskId missing';
  const raw = (v as { raw?: unknown }).raw;
  return `TaskId ${typeof raw === 'string' ? raw : v instanceof Map ? 'an object' : JSON.stringify(v)}`.slice(0, 120);
}

/** Maps whatever the SDK or node-fetch threw to a TcssApiError. */
export function toTcssError(err: unknown, latencyMs: number): TcssApiError {
  if (err instanceof TcssApiError) return err;
  // The provider could not give keys (a renewal failed, STS down): transient, the call never left.
  if (err instanceof CredentialsUnavailableError)
    return new TcssApiError('NetworkError', err.message, undefined, latencyMs);
  const e = (err ?? {}) as {
    code?: unknown;
    message?: unknown;
    requestId?: unknown;
    httpCode?: unknown;
    type?: unknown;
    name?: unknown;
  };
  const message = errorMessage(err);
  const requestId = typeof e.requestId === 'string' && e.requestId !== '' ? e.requestId : undefined;
  // node-fetch's system errors carry Node's code (ECONNREFUSED, ETIMEDOUT...): faults below the API.
  const systemCode = e.type === 'system' || (typeof e.code === 'string' && /^E[A-Z0-9_]+$/.test(e.code));
  if (systemCode) {
    const code = typeof e.code === 'string' ? e.code : '';
    const kind = /^(ETIMEDOUT|ESOCKETTIMEDOUT)$/.test(code) ? 'Timeout' : 'NetworkError';
    return new TcssApiError(
      kind,
      code && !message.includes(code) ? `${code}: ${message}` : message,
      requestId,
      latencyMs,
    );
  }
  if (typeof e.code === 'string' && /^[A-Z][A-Za-z]+(\.[A-Za-z0-9]+)*$/.test(e.code)) {
    return new TcssApiError(e.code, message, requestId, latencyMs);
  }
  if (typeof e.httpCode === 'number') {
    return new TcssApiError('HttpError', `HTTP ${e.httpCode} ${message}`, requestId, latencyMs, e.httpCode);
  }
  if (e.type === 'request-timeout' || e.name === 'AbortError' || /timeout/i.test(message)) {
    return new TcssApiError('Timeout', message, requestId, latencyMs);
  }
  return new TcssApiError('NetworkError', message, requestId, latencyMs);
}

/** Idle keep-alive sockets are closed after this long: below the 5 s keep-alive of Node servers. */
export const IDLE_SOCKET_MS = 4_000;

/** `credentials`: the worker's shared provider (default: one made from the configuration). */
export function createTcssClient(
  cfg: TcssConfig,
  credentials: WatchedCredentials = createCredentials(cfg),
): TcssClient {
  const secure = cfg.endpoint.protocol === 'https:';
  // Keep-alive: no TCP/TLS handshake per call, so the time a call leaves is close to when it arrives.
  // Idle sockets are closed by us before a server would close them (Node's http server after 5 s, many
  // gateways after a few seconds): a late retry (backoffs of several seconds) must never reuse a socket
  // the server is closing at that moment, or the call fails with ECONNRESET and uses up an attempt.
  // The agent's `timeout` destroys only free sockets; calls in flight are bounded by TCSS_TIMEOUT_MS.
  const keepAlive = { keepAlive: true, maxSockets: cfg.maxInFlight, timeout: IDLE_SOCKET_MS };
  const agent = secure ? new https.Agent(keepAlive) : new http.Agent(keepAlive);
  const sdk = createSdkClient({
    endpoint: cfg.endpoint,
    service: TCSS_SERVICE,
    version: TCSS_VERSION,
    parse: (res) => parseExactAnswer(res as AnswerLike),
    region: cfg.region ?? '',
    credential: credentials,
    timeoutMs: cfg.timeoutMs,
    agent,
  });

  return {
    async scan(params: ScanParams): Promise<ScanOk> {
      const body: Record<string, unknown> = {
        CustomerPolicyItemId: params.policyItemId,
        CustomerAssetIdSet: params.assetIds,
      };
      if (params.assetType !== undefined) body.AssetType = params.assetType;
      const started = performance.now();
      let answer: ExactAnswer;
      try {
        const raw: unknown = await sdk.request(SCAN_ACTION, body);
        answer = raw as ExactAnswer;
      } catch (err) {
        throw toTcssError(err, performance.now() - started);
      }
      const latencyMs = performance.now() - started;
      const { taskId, requestId, rawTaskId } = answer;
      if (taskId === undefined) {
        // The API said yes, so a task may exist: calling again could create a second one. Not retried.
        throw new TcssApiError(
          UNEXPECTED_ANSWER,
          `the API accepted the call but its answer has no TaskId we can read (${describeTaskId(rawTaskId)})`,
          requestId || undefined,
          latencyMs,
        );
      }
      return { taskId, requestId, latencyMs };
    },
    warmUp: () =>
      warmUp({
        origin: cfg.endpoint.origin,
        agent,
        service: TCSS_SERVICE,
        version: TCSS_VERSION,
        timeoutMs: cfg.timeoutMs,
      }),
    close(): void {
      agent.destroy();
    },
  };
}
