/**
 * Where and how we call STS (version 2018-08-13, signing service `sts`): GetCallerIdentity to learn
 * who we are (identity.ts), AssumeRole for temporary keys (credentials.ts).
 */
import type { Credential, DynamicCredential } from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/interface';
import type { TcssConfig } from '../config';
import { createSdkClient, type SdkClient } from './sdkClient';

export const STS_SERVICE = 'sts';
export const STS_VERSION = '2018-08-13';
/** STS requires a Region; any region answers for the account. */
const DEFAULT_STS_REGION = 'ap-guangzhou';

function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/**
 * TENCENTCLOUD_STS_ENDPOINT when set; else the simulator itself when TCSS_ENDPOINT is on loopback (it
 * answers STS too); else the international STS for the international TCSS endpoint, the mainland one
 * otherwise.
 */
export function stsEndpoint(tcss: Pick<TcssConfig, 'stsEndpoint' | 'endpoint'>): URL {
  if (tcss.stsEndpoint) return tcss.stsEndpoint;
  if (isLoopbackHost(tcss.endpoint.hostname)) return tcss.endpoint;
  return new URL(
    tcss.endpoint.hostname.includes('.intl.')
      ? 'https://sts.intl.tencentcloudapi.com'
      : 'https://sts.tencentcloudapi.com',
  );
}

export function createStsClient(
  tcss: Pick<TcssConfig, 'stsEndpoint' | 'endpoint' | 'region' | 'timeoutMs'>,
  credential: Credential | DynamicCredential,
): SdkClient {
  return createSdkClient({
    endpoint: stsEndpoint(tcss),
    service: STS_SERVICE,
    version: STS_VERSION,
    region: tcss.region ?? DEFAULT_STS_REGION,
    credential,
    timeoutMs: Math.min(tcss.timeoutMs, 10_000),
  });
}
