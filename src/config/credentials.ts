/** The TENCENTCLOUD credentials: where keys come from, the key pair, and the demo pair on loopback. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEMO_CREDENTIALS } from '../demoKeys';
import { ConfigError } from './errors';
import type { CredentialSource, Env } from './schema';
import type { Credentials, TcssConfig } from './types';

/**
 * `auto`: keys in the environment (assuming TENCENTCLOUD_ROLE_ARN when set), then TKE's OIDC variables,
 * then a profile file, then the simulator's demo pair on a loopback endpoint. The CVM role is never
 * guessed (probing the metadata server off CVM would hang): choose it with TENCENTCLOUD_CREDENTIALS=cvm.
 * The SDK's ProfileCredential reads ~/.tencentcloud/credentials, then /etc/tencentcloud/credentials.
 */
export function resolveCredentialSource(e: Env, env: NodeJS.ProcessEnv, loopback: boolean): CredentialSource {
  if (e.TENCENTCLOUD_CREDENTIALS !== 'auto') return e.TENCENTCLOUD_CREDENTIALS;
  if (e.TENCENTCLOUD_SECRET_ID !== undefined) return e.TENCENTCLOUD_ROLE_ARN !== undefined ? 'role' : 'env';
  if (env.TKE_ROLE_ARN && env.TKE_PROVIDER_ID && env.TKE_WEB_IDENTITY_TOKEN_FILE) return 'oidc';
  const home = env.HOME ?? homedir();
  if (existsSync(join(home, '.tencentcloud', 'credentials')) || existsSync('/etc/tencentcloud/credentials'))
    return 'profile';
  return loopback ? 'demo' : 'env';
}

/** The key pair of the environment; else the demo pair for the `demo` source; else none. */
export function configuredCredentials(e: Env, source: CredentialSource): Credentials | undefined {
  if (e.TENCENTCLOUD_SECRET_ID !== undefined && e.TENCENTCLOUD_SECRET_KEY !== undefined) {
    return {
      secretId: e.TENCENTCLOUD_SECRET_ID,
      secretKey: e.TENCENTCLOUD_SECRET_KEY,
      ...(e.TENCENTCLOUD_SESSION_TOKEN !== undefined ? { sessionToken: e.TENCENTCLOUD_SESSION_TOKEN } : {}),
    };
  }
  return source === 'demo' ? { ...DEMO_CREDENTIALS } : undefined;
}

/**
 * The long-lived key pair from the environment, for code that needs one; a ConfigError naming the
 * variables when there is none. Workers use tcss/credentials.ts, which covers every source.
 */
export function requireCredentials(tcss: TcssConfig): Credentials {
  if (tcss.credentials) return tcss.credentials;
  throw new ConfigError([
    `TENCENTCLOUD_SECRET_ID: expected Tencent Cloud credentials (TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY) for ${tcss.endpoint.origin}, got nothing; to run without them, point TCSS_ENDPOINT at the local simulator (e.g. http://127.0.0.1:4010)`,
  ]);
}
