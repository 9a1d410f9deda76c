/**
 * The TCSS client: ScanComplianceAssetsByPolicyItem through the official SDK's CommonClient.
 *
 * One thing is changed in the SDK, on purpose: CommonClient derives the signing service from the first
 * DNS label of the endpoint (`tcss.intl.tencentcloudapi.com` -> `tcss`), so any other endpoint (a
 * regional gateway, a proxy, the simulator at `127.0.0.1:4010` -> `127`) would be signed for the wrong
 * service and refused with AuthFailure.InvalidAuthorization. We sign with service `tcss` whatever the
 * endpoint says, still through the SDK's own HttpConnection (signing, headers, body) and parseResponse.
 */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { HttpConnection } from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/http/http_connection';
import type { TcssConfig } from '../config';
import { requireCredentials } from '../config';
import type { AssetType } from '../job';
import { ruleFor, type ErrorAction, type ErrorScope } from './errorTable';
import { parseExactAnswer, type AnswerLike, type ExactAnswer } from './exactResponse';

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
  close(): void;
}

interface SdkInternals {
  getCredential(): Promise<{ secretId?: string; secretKey?: string; token?: string }>;
  endpoint: string;
  path: string;
  region: string | null;
  apiVersion: string;
  sdkVersion: string;
  profile: { httpProfile: { protocol: string; reqMethod: string; reqTimeout: number; agent?: http.Agent }; language?: string };
}

type ClientCtor = new (...args: ConstructorParameters<typeof CommonClient>) => Pick<CommonClient, 'request'>;

/** CommonClient, signing with service `tcss` (see the file comment). */
class TcssCommonClient extends (CommonClient as unknown as ClientCtor) {
  // Replaces the SDK's private doRequestWithSign3, which is the same but for `service`.
  // and but for reading the answer exactly (exactResponse.ts) instead of the SDK's parseResponse.
  protected async doRequestWithSign3(action: string, params: unknown): Promise<ExactAnswer> {
    const self = this as unknown as SdkInternals;
    const credential = await self.getCredential();
    const { httpProfile } = self.profile;
    const res = await HttpConnection.doRequestWithSign3({
      method: httpProfile.reqMethod,
      url: httpProfile.protocol + self.endpoint + self.path,
      secretId: credential.secretId ?? '',
      secretKey: credential.secretKey ?? '',
      region: self.region as string,
      data: params ?? '',
      service: TCSS_SERVICE,
      action,
      version: self.apiVersion,
      timeout: httpProfile.reqTimeout * 1000,
      token: credential.token as string,
      requestClient: self.sdkVersion,
      language: self.profile.language as string,
      ...(httpProfile.agent ? { agent: httpProfile.agent } : {}),
    });
    return parseExactAnswer(res as unknown as AnswerLike);
  }
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
  const e = (err ?? {}) as { code?: unknown; message?: unknown; requestId?: unknown; httpCode?: unknown; type?: unknown; name?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(err);
  const requestId = typeof e.requestId === 'string' && e.requestId !== '' ? e.requestId : undefined;
  // node-fetch's system errors carry Node's code (ECONNREFUSED, ETIMEDOUT...): faults below the API.
  const systemCode = e.type === 'system' || (typeof e.code === 'string' && /^E[A-Z0-9_]+$/.test(e.code));
  if (systemCode) {
    const code = String(e.code ?? '');
    const kind = /^(ETIMEDOUT|ESOCKETTIMEDOUT)$/.test(code) ? 'Timeout' : 'NetworkError';
    return new TcssApiError(kind, code && !message.includes(code) ? `${code}: ${message}` : message, requestId, latencyMs);
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

export function createTcssClient(cfg: TcssConfig): TcssClient {
  const credentials = requireCredentials(cfg);
  const secure = cfg.endpoint.protocol === 'https:';
  // Keep-alive: no TCP/TLS handshake per call, so the time a call leaves is close to when it arrives.
  // Idle sockets are closed by us before a server would close them (Node's http server after 5 s, many
  // gateways after a few seconds): a late retry (backoffs of several seconds) must never reuse a socket
  // the server is closing at that moment, or the call fails with ECONNRESET and uses up an attempt.
  // The agent's `timeout` destroys only free sockets; calls in flight are bounded by TCSS_TIMEOUT_MS.
  const keepAlive = { keepAlive: true, maxSockets: cfg.maxInFlight, timeout: IDLE_SOCKET_MS };
  const agent = secure ? new https.Agent(keepAlive) : new http.Agent(keepAlive);
  const sdk = new TcssCommonClient(cfg.endpoint.host, TCSS_VERSION, {
    credential: {
      secretId: credentials.secretId,
      secretKey: credentials.secretKey,
      ...(credentials.sessionToken !== undefined ? { token: credentials.sessionToken } : {}),
    },
    region: cfg.region ?? '',
    profile: {
      httpProfile: {
        protocol: secure ? 'https://' : 'http://',
        reqMethod: 'POST',
        reqTimeout: cfg.timeoutMs / 1000,
        agent,
      },
    },
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
        answer = (await sdk.request(SCAN_ACTION, body)) as unknown as ExactAnswer;
      } catch (err) {
        throw toTcssError(err, performance.now() - started);
      }
      const latencyMs = performance.now() - started;
      const { taskId, requestId, rawTaskId } = answer;
      if (taskId === undefined) {
        // The API said yes, so a task may exist: calling again could create a second one. Not retried.
        throw new TcssApiError(UNEXPECTED_ANSWER, `the API accepted the call but its answer has no TaskId we can read (${describeTaskId(rawTaskId)})`, requestId || undefined, latencyMs);
      }
      return { taskId, requestId, latencyMs };
    },
    close(): void {
      agent.destroy();
    },
  };
}
