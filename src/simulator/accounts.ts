/**
 * Who a SecretId belongs to, as the simulated gateway sees it: long-lived keys of CAM sub-accounts
 * (several keys may share one sub-account), and the temporary keys AssumeRole hands out (each belongs
 * to the role it was issued for, and carries a token that must come back in X-TC-Token).
 *
 * Tencent counts the rate limit per (sub-account, action, access region), not per key, so the
 * simulator's windows are keyed by `principal` (docs/tcss-api.md, docs/credentials.md).
 * Memory is bounded: at most MAX_TEMPORARY temporary keys are kept, expired ones are dropped first.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SIM_OWNER_UIN, type SimulatorCredential } from './options';

/** What a usable key maps to. */
export interface KeyOwner {
  secretKey: string;
  /** The rate-limit principal: `uin:<sub-account>` or `role:<owner>/<roleId>`. */
  principal: string;
  /** What GetCallerIdentity answers for it. */
  identity: CallerIdentityAnswer;
  /** Temporary keys only: the token that must come in X-TC-Token, and when the key expires (ms). */
  token?: string;
  expiresAtMs?: number;
}

export interface CallerIdentityAnswer {
  Arn: string;
  AccountId: string;
  UserId: string;
  PrincipalId: string;
  Type: string;
}

export interface TemporaryCredentials {
  TmpSecretId: string;
  TmpSecretKey: string;
  Token: string;
  /** Unix seconds. */
  ExpiredTime: number;
  /** ISO 8601. */
  Expiration: string;
}

/** Temporary keys kept at most (oldest expiry dropped first beyond this). */
export const MAX_TEMPORARY = 10_000;
/** An expired temporary key is still known (answered with TokenFailure, not SecretIdNotFound) this long. */
const EXPIRED_KEPT_MS = 3_600_000;

/** A UIN of its own for a key configured without one: stable across restarts. */
export function defaultUin(secretId: string): string {
  const n = BigInt(`0x${createHash('sha256').update(secretId).digest('hex').slice(0, 12)}`) % 900_000_000n;
  return String(200_000_000_000n + n);
}

/** `qcs::cam::uin/<owner>:roleName/<name>` → name, or undefined when the ARN is not a role ARN. */
export function roleNameOf(roleArn: string): string | undefined {
  return /^qcs::cam::uin\/\d+:role(?:Name)?\/([A-Za-z0-9_+=,.@-]{1,128})$/.exec(roleArn)?.[1];
}

function roleIdOf(roleName: string): string {
  return `4611686018${createHash('sha256')
    .update(roleName)
    .digest('hex')
    .slice(0, 8)
    .replace(/[a-f]/g, (c) => String(c.charCodeAt(0) % 10))}`;
}

export class KeyRegistry {
  private longLived = new Map<string, KeyOwner>();
  private readonly temporary = new Map<string, KeyOwner>();

  constructor(credentials: readonly SimulatorCredential[]) {
    this.setCredentials(credentials);
  }

  setCredentials(credentials: readonly SimulatorCredential[]): void {
    this.longLived = new Map(
      credentials.map((c) => {
        const uin = c.uin ?? defaultUin(c.secretId);
        const identity: CallerIdentityAnswer = {
          Arn: `qcs::cam::uin/${SIM_OWNER_UIN}:uin/${uin}`,
          AccountId: SIM_OWNER_UIN,
          UserId: uin,
          PrincipalId: uin,
          Type: 'CAMUser',
        };
        return [c.secretId, { secretKey: c.secretKey, principal: `uin:${uin}`, identity }];
      }),
    );
  }

  /** Long-lived or temporary; undefined when unknown. */
  lookup(secretId: string): KeyOwner | undefined {
    return this.longLived.get(secretId) ?? this.temporary.get(secretId);
  }

  /** Temporary keys for `roleArn`, valid `ttlMs` from `nowMs`. Only a long-lived key may assume a role. */
  assumeRole(roleArn: string, sessionName: string, ttlMs: number, nowMs: number): TemporaryCredentials {
    this.prune(nowMs);
    const roleName = roleNameOf(roleArn) ?? 'unknown';
    const roleId = roleIdOf(roleName);
    const expiresAtMs = nowMs + ttlMs;
    const tmpSecretId = `AKIDtmp${randomBytes(16).toString('hex')}`;
    const tmpSecretKey = randomBytes(24).toString('base64url');
    const token = randomBytes(48).toString('base64url');
    this.temporary.set(tmpSecretId, {
      secretKey: tmpSecretKey,
      principal: `role:${SIM_OWNER_UIN}/${roleId}`,
      identity: {
        Arn: `qcs::cam::uin/${SIM_OWNER_UIN}:roleName/${roleName}`,
        AccountId: SIM_OWNER_UIN,
        UserId: `${roleId}:${sessionName}`,
        PrincipalId: roleId,
        Type: 'CAMRole',
      },
      token,
      expiresAtMs,
    });
    return {
      TmpSecretId: tmpSecretId,
      TmpSecretKey: tmpSecretKey,
      Token: token,
      ExpiredTime: Math.floor(expiresAtMs / 1000),
      Expiration: new Date(expiresAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
  }

  /** How many temporary keys are kept (for the memory bound test). */
  temporaryCount(): number {
    return this.temporary.size;
  }

  clearTemporary(): void {
    this.temporary.clear();
  }

  private prune(nowMs: number): void {
    for (const [id, owner] of this.temporary) {
      if ((owner.expiresAtMs ?? 0) + EXPIRED_KEPT_MS < nowMs) this.temporary.delete(id);
    }
    // Still too many: the Map iterates in insertion order, which is expiry order for one TTL.
    for (const id of this.temporary.keys()) {
      if (this.temporary.size < MAX_TEMPORARY) break;
      this.temporary.delete(id);
    }
  }
}
