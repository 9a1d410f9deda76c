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
import { actionFor, type ErrorAction } from './errorTable';
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
  taskId: number;
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
  constructor(
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
    readonly latencyMs: number,
    readonly httpStatus?: number,
  ) {
    super(`${code}: ${message}`);
    this.action = actionFor(code);
  }
}

export interface TcssClient {
  scan(params: ScanParams): Promise<ScanOk>;
  /** Opens the connection and runs the SDK's path once, calling nothing (warmUp.ts). */
  warmUp(): Promise<{ ms: number; status?: number; error?: string }>;
  close(): void;
}

interface SdkInternals {
  getCredential(): Promise<{ secretId?: string; secretKey?: string; token?: string }>;
  parseResponse(res: unknown): Promise<Record<string, unknown>>;
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
  protected async doRequestWithSign3(action: string, params: unknown): Promise<Record<string, unknown>> {
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
    return self.parseResponse(res);
  }
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

export function createTcssClient(cfg: TcssConfig): TcssClient {
  const credentials = requireCredentials(cfg);
  const secure = cfg.endpoint.protocol === 'https:';
  // Keep-alive: no TCP/TLS handshake per call, so the time a call leaves is close to when it arrives.
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: cfg.maxInFlight })
    : new http.Agent({ keepAlive: true, maxSockets: cfg.maxInFlight });
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
      let response: Record<string, unknown>;
      try {
        response = (await sdk.request(SCAN_ACTION, body)) as Record<string, unknown>;
      } catch (err) {
        throw toTcssError(err, performance.now() - started);
      }
      const latencyMs = performance.now() - started;
      const taskId = response.TaskId;
      const requestId = typeof response.RequestId === 'string' ? response.RequestId : '';
      if (typeof taskId !== 'number' || !Number.isSafeInteger(taskId)) {
        throw new TcssApiError('InternalError', `response without a valid TaskId: ${JSON.stringify(response).slice(0, 200)}`, requestId, latencyMs);
      }
      return { taskId, requestId, latencyMs };
    },
    warmUp: () => warmUp({ origin: cfg.endpoint.origin, agent, service: TCSS_SERVICE, version: TCSS_VERSION, timeoutMs: cfg.timeoutMs }),
    close(): void {
      agent.destroy();
    },
  };
}
