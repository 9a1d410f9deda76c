/**
 * Where the worker's keys come from: the official SDK's credential providers, chosen by
 * TENCENTCLOUD_CREDENTIALS (config.ts resolves `auto`; docs/credentials.md explains each):
 *   env     BasicCredential of TENCENTCLOUD_SECRET_ID / _KEY / _SESSION_TOKEN (read and validated in config.ts)
 *   profile ProfileCredential: ~/.tencentcloud/credentials, else /etc/tencentcloud/credentials (re-read on each call)
 *   role    STSCredential: AssumeRole of TENCENTCLOUD_ROLE_ARN with the env keys; renewed 30 s before expiry
 *   cvm     CvmRoleCredential: the CVM instance's CAM role, from the metadata server; renewed 30 s before expiry
 *   oidc    OIDCRoleArnCredential: TKE workload identity (TKE_ROLE_ARN, TKE_PROVIDER_ID, TKE_WEB_IDENTITY_TOKEN_FILE)
 *   demo    the simulator's demo pair (loopback endpoint, no keys configured)
 *
 * The SDK's providers keep a failed fetch as their answer for good (a rejected promise stays cached),
 * so a failed renewal is forgotten here and the next call asks again. Listeners hear when the SecretId
 * changes (a renewal, a rotated profile file), so the identity can be learned again (identity.ts).
 *
 * Renewal off the call path: left alone, the SDK renews on the first call within 30 s of expiry, and
 * every call the budget lets go meanwhile waits for AssumeRole, then all leave together: a burst over
 * the limit (seen in test/faults/temporaryCredentials.fault.ts). So keys with an expiry are renewed in
 * the background at 3/4 of their usable life, and calls keep using the current keys meanwhile.
 */
import {
  BasicCredential,
  CvmRoleCredential,
  OIDCRoleArnCredential,
  ProfileCredential,
  STSCredential,
} from 'tencentcloud-sdk-nodejs-common';
import type {
  Credential,
  CredentialResult,
  DynamicCredential,
} from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/interface';
import { DEMO_SECRET_ID, DEMO_SECRET_KEY } from '../demoKeys';
import type { CredentialSource, TcssConfig } from '../config';
import type { SdkClient } from './sdkClient';
import { createStsClient, stsEndpoint } from './sts';
import { errorMessage } from '../redact';

/** Keys fit to sign with: both parts present. */
export interface UsableCredential {
  secretId: string;
  secretKey: string;
  token?: string;
}

/** The provider gave nothing usable (no keys, or its source failed). Code `CredentialsUnavailable`. */
export class CredentialsUnavailableError extends Error {
  override readonly name = 'CredentialsUnavailableError';
  readonly code = 'CredentialsUnavailable';
}

/** The SDK's STSCredential, calling AssumeRole through our STS client (endpoint and service we choose). */
class RoleCredential extends STSCredential {
  constructor(
    private readonly sts: SdkClient,
    private readonly params: { RoleArn: string; RoleSessionName: string },
  ) {
    super({ credential: { secretId: '', secretKey: '' } }, params);
  }

  protected override async getCredentialWithStsAssumeRole(): Promise<CredentialResult> {
    try {
      const result = (await this.sts.request('AssumeRole', this.params)) as {
        Credentials: { TmpSecretId: string; TmpSecretKey: string; Token: string };
        ExpiredTime: number;
        Expiration: string;
      };
      return { ...result.Credentials, ExpiredTime: result.ExpiredTime, Expiration: result.Expiration };
    } catch (err) {
      throw new Error(`Get STS AssumeRole failed: ${errorMessage(err)}`, { cause: err });
    }
  }
}

/** The SDK's provider for a source, before the wrapper below. */
function sdkProvider(tcss: TcssConfig, source: CredentialSource): DynamicCredential | Credential {
  switch (source) {
    case 'demo':
      return new BasicCredential(DEMO_SECRET_ID, DEMO_SECRET_KEY);
    case 'env': {
      const c = tcss.credentials;
      return new BasicCredential(c?.secretId ?? '', c?.secretKey ?? '', c?.sessionToken);
    }
    case 'profile':
      return new ProfileCredential();
    case 'role': {
      const base = tcss.credentials;
      const sts = createStsClient(
        tcss,
        new BasicCredential(base?.secretId ?? '', base?.secretKey ?? '', base?.sessionToken),
      );
      return new RoleCredential(sts, { RoleArn: tcss.roleArn ?? '', RoleSessionName: tcss.roleSessionName });
    }
    case 'cvm':
      return new CvmRoleCredential();
    case 'oidc': {
      const oidc = new OIDCRoleArnCredential();
      // Renew 30 s ahead like the other providers (the SDK's 600 is compared with milliseconds).
      (oidc as unknown as { expirationReservationTime: number }).expirationReservationTime = 30_000;
      // AssumeRoleWithWebIdentity is unsigned, so pointing it elsewhere needs only the host and protocol.
      const url = stsEndpoint(tcss);
      const internals = oidc as unknown as { endpoint: string; clientConfig: { profile?: unknown } };
      internals.endpoint = url.host;
      internals.clientConfig.profile = {
        httpProfile: { protocol: url.protocol === 'https:' ? 'https://' : 'http://' },
      };
      return oidc;
    }
  }
}

export type CredentialListener = (current: UsableCredential, previous: UsableCredential | undefined) => void;

/** A provider that the SDK clients ask before every call, with the SecretId watched for changes. */
export class WatchedCredentials implements DynamicCredential {
  private last: UsableCredential | undefined;
  private readonly listeners: CredentialListener[] = [];
  /** Keys with an expiry: served from here until `usableUntilMs`; renewed in the background from `renewAtMs`. */
  private cached: { credential: UsableCredential; renewAtMs: number; usableUntilMs: number } | undefined;
  private renewing: Promise<unknown> | undefined;

  constructor(
    private readonly provider: DynamicCredential | Credential,
    readonly source: CredentialSource,
  ) {}

  onChange(listener: CredentialListener): void {
    this.listeners.push(listener);
  }

  async getCredential(): Promise<UsableCredential> {
    const now = Date.now();
    const cached = this.cached;
    if (cached !== undefined && now < cached.usableUntilMs) {
      if (now >= cached.renewAtMs && this.renewing === undefined) {
        const sdk = this.provider as { credentialTask?: unknown };
        sdk.credentialTask = null; // the SDK fetches anew on the next ask
        this.renewing = this.fetch()
          .catch(() => undefined) // the next call past usableUntilMs asks again, on its path
          .finally(() => (this.renewing = undefined));
      }
      return cached.credential;
    }
    return this.fetch();
  }

  /** Asks the SDK's provider; remembers keys that expire (see the file comment). */
  private async fetch(): Promise<UsableCredential> {
    let c: Credential;
    try {
      c = 'getCredential' in this.provider ? await this.provider.getCredential() : this.provider;
    } catch (err) {
      // Forget the failure so that the next call asks again (see the file comment).
      (this.provider as { credentialTask?: unknown }).credentialTask = null;
      throw new CredentialsUnavailableError(`no credentials from the ${this.source} provider: ${errorMessage(err)}`);
    }
    if (!c.secretId || !c.secretKey) {
      throw new CredentialsUnavailableError(
        `no credentials from the ${this.source} provider (TENCENTCLOUD_CREDENTIALS=${this.source}): see docs/credentials.md`,
      );
    }
    const current: UsableCredential = {
      secretId: c.secretId,
      secretKey: c.secretKey,
      ...(c.token ? { token: c.token } : {}),
    };
    const expiresAtMs = await this.expiryOf();
    if (expiresAtMs !== undefined) {
      const now = Date.now();
      const usableUntilMs = expiresAtMs - SDK_RENEW_AHEAD_MS;
      this.cached = { credential: current, usableUntilMs, renewAtMs: now + Math.max(0, usableUntilMs - now) * 0.75 };
    }
    const previous = this.last;
    if (previous?.secretId !== current.secretId) {
      this.last = current;
      for (const listener of this.listeners) listener(current, previous);
    }
    return current;
  }

  /** ExpiredTime (ms) of the keys the SDK's provider holds now, if they expire. */
  private async expiryOf(): Promise<number | undefined> {
    const task = (this.provider as { credentialTask?: Promise<{ ExpiredTime?: unknown }> | null }).credentialTask;
    if (!task) return undefined;
    const expired = Number((await task.catch(() => ({ ExpiredTime: undefined }))).ExpiredTime);
    return Number.isFinite(expired) && expired > 0 ? expired * 1000 : undefined;
  }
}

/** The SDK's STS, CVM and OIDC providers renew this long before ExpiredTime. */
const SDK_RENEW_AHEAD_MS = 30_000;

export function createCredentials(tcss: TcssConfig): WatchedCredentials {
  return new WatchedCredentials(sdkProvider(tcss, tcss.credentialSource), tcss.credentialSource);
}
