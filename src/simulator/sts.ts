/**
 * The STS actions the simulator answers (version 2018-08-13, signing service `sts`), enough for the
 * worker to learn who it is and for the SDK's AssumeRole provider to get temporary keys:
 *   GetCallerIdentity → Arn, AccountId, UserId, PrincipalId, Type of the calling key
 *   AssumeRole        → Credentials {TmpSecretId, TmpSecretKey, Token}, ExpiredTime, Expiration
 * Served at the same `POST /` as TCSS: the action picks the product, and the credential scope must
 * name that product's service (a request for an STS action signed for `tcss` is refused, as on the
 * real gateway, where each product has its own host).
 */
import type { KeyOwner, KeyRegistry } from './accounts';
import { roleNameOf } from './accounts';
import type { ParsedBody } from './scanParams';

export const STS_SERVICE = 'sts';
export const STS_VERSION = '2018-08-13';
export const STS_ACTIONS: ReadonlySet<string> = new Set(['GetCallerIdentity', 'AssumeRole']);

export type StsAnswer = { ok: true; response: Record<string, unknown> } | { ok: false; code: string; message: string };

function field(body: ParsedBody, name: string): unknown {
  return body.ok && body.value instanceof Map ? body.value.get(name) : undefined;
}

/** Answers an authenticated, admitted STS call. */
export function answerSts(
  action: string,
  owner: KeyOwner,
  body: ParsedBody,
  keys: KeyRegistry,
  ttlMs: number,
  nowMs: number,
): StsAnswer {
  if (action === 'GetCallerIdentity') return { ok: true, response: { ...owner.identity } };
  // AssumeRole
  if (owner.token !== undefined) {
    return { ok: false, code: 'InvalidParameter', message: 'The simulator lets only long-lived keys assume a role.' };
  }
  const roleArn = field(body, 'RoleArn');
  const sessionName = field(body, 'RoleSessionName');
  if (typeof roleArn !== 'string' || roleArn === '')
    return { ok: false, code: 'MissingParameter', message: 'The request is missing a required parameter `RoleArn`.' };
  if (typeof sessionName !== 'string' || sessionName === '') {
    return {
      ok: false,
      code: 'MissingParameter',
      message: 'The request is missing a required parameter `RoleSessionName`.',
    };
  }
  if (roleNameOf(roleArn) === undefined) {
    return {
      ok: false,
      code: 'InvalidParameter',
      message: `RoleArn \`${roleArn.slice(0, 200)}\` is not of the form qcs::cam::uin/<uin>:roleName/<name>.`,
    };
  }
  if (!/^[\w+=,.@-]{2,128}$/.test(sessionName)) {
    return {
      ok: false,
      code: 'InvalidParameter',
      message: 'RoleSessionName must be 2 to 128 of letters, digits and +=,.@-_.',
    };
  }
  const credentials = keys.assumeRole(roleArn, sessionName, ttlMs, nowMs);
  const { ExpiredTime, Expiration, ...rest } = credentials;
  return { ok: true, response: { Credentials: rest, ExpiredTime, Expiration } };
}
