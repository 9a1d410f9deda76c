/**
 * The official SDK's CommonClient, signing for a service we name.
 *
 * CommonClient derives the signing service from the first DNS label of the endpoint
 * (`tcss.intl.tencentcloudapi.com` -> `tcss`), so any other endpoint (a regional gateway, a proxy, the
 * simulator at `127.0.0.1:4010` -> `127`) would be signed for the wrong service and refused with
 * AuthFailure.InvalidAuthorization. This client signs with the service it is given whatever the
 * endpoint says, still through the SDK's own HttpConnection (signing, headers, token) and parseResponse.
 * Used for TCSS (service `tcss`) and STS (service `sts`: GetCallerIdentity, AssumeRole).
 */
import type http from 'node:http';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import { HttpConnection } from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/http/http_connection';
import type { Credential, DynamicCredential } from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/interface';
import type { AnswerLike } from './exactResponse';

/**
 * The SDK's HttpConnection.doRequestWithSign3 (sign and send), with its answer typed: the SDK declares it
 * as node-fetch's Response, but does not bring node-fetch's types, so TypeScript cannot resolve it.
 */
export const sendSigned = HttpConnection.doRequestWithSign3.bind(HttpConnection) as (
  request: Parameters<typeof HttpConnection.doRequestWithSign3>[0],
) => Promise<AnswerLike>;

interface SdkInternals {
  getCredential(): Promise<{ secretId?: string; secretKey?: string; token?: string }>;
  parseResponse(res: unknown): Promise<Record<string, unknown>>;
  endpoint: string;
  path: string;
  region: string | null;
  apiVersion: string;
  sdkVersion: string;
  profile: {
    httpProfile: { protocol: string; reqMethod: string; reqTimeout: number; agent?: http.Agent };
    language?: string;
  };
}

type ClientCtor = new (...args: ConstructorParameters<typeof CommonClient>) => Pick<CommonClient, 'request'>;

/** Reads an answer (node-fetch's Response); throws as the SDK's parseResponse does. */
export type AnswerParser = (res: unknown) => Promise<unknown>;

class ServiceCommonClient extends (CommonClient as unknown as ClientCtor) {
  constructor(
    private readonly service: string,
    private readonly parse: AnswerParser | undefined,
    ...args: ConstructorParameters<typeof CommonClient>
  ) {
    super(...args);
  }

  // Replaces the SDK's private doRequestWithSign3, which is the same but for `service`.
  protected async doRequestWithSign3(action: string, params: unknown): Promise<unknown> {
    const self = this as unknown as SdkInternals;
    const credential = await self.getCredential();
    const { httpProfile } = self.profile;
    const res = await sendSigned({
      method: httpProfile.reqMethod,
      url: httpProfile.protocol + self.endpoint + self.path,
      secretId: credential.secretId ?? '',
      secretKey: credential.secretKey ?? '',
      region: self.region as string,
      data: params ?? '',
      service: this.service,
      action,
      version: self.apiVersion,
      timeout: httpProfile.reqTimeout * 1000,
      token: credential.token as string,
      requestClient: self.sdkVersion,
      language: self.profile.language as string,
      ...(httpProfile.agent ? { agent: httpProfile.agent } : {}),
    });
    return this.parse ? this.parse(res) : self.parseResponse(res);
  }
}

export interface SdkClientOptions {
  /** Endpoint URL: its protocol and host (with port) are used. */
  endpoint: URL;
  /** Signing service, e.g. `tcss`, `sts`. */
  service: string;
  version: string;
  region: string;
  /** Fixed keys or a provider asked before every call (the SDK's DynamicCredential). */
  credential: Credential | DynamicCredential;
  timeoutMs: number;
  agent?: http.Agent;
  /** Reads the answer instead of the SDK's parseResponse (JSON.parse), e.g. exactly (exactResponse.ts). */
  parse?: AnswerParser;
}

export type SdkClient = Pick<CommonClient, 'request'>;

export function createSdkClient(o: SdkClientOptions): SdkClient {
  return new ServiceCommonClient(o.service, o.parse, o.endpoint.host, o.version, {
    credential: o.credential,
    region: o.region,
    profile: {
      httpProfile: {
        protocol: o.endpoint.protocol === 'https:' ? 'https://' : 'http://',
        reqMethod: 'POST',
        reqTimeout: o.timeoutMs / 1000,
        ...(o.agent ? { agent: o.agent } : {}),
      },
    },
  });
}
