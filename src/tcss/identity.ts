/**
 * Who Tencent counts our calls against. The API's 20 req/s is per (sub-account, action, access
 * region), not per key: two keys of one CAM user share one budget. So the shared budget is keyed by the
 * caller's identity, learned from STS GetCallerIdentity (2018-08-13, signing service `sts`):
 *   a CAM user (or the root account)  -> `uin:<UserId>`                 (its UIN)
 *   a role session (AssumeRole, CVM, TKE) -> `role:<AccountId>/<roleId>`  (the role, not the session:
 *      UserId is `roleId:sessionName`; without one, the role name from `...:roleName/<name>`)
 * TCSS_BUDGET_KEY overrides it (`custom:<value>`). When STS cannot answer, we say so loudly and key by
 * the SecretId (`secretId:<id>`, hashed in Redis key names by budgetId()), never by nothing.
 */
import type { TcssConfig } from '../config';
import type { Logger } from '../logger';
import type { UsableCredential, WatchedCredentials } from './credentials';
import { createStsClient, stsEndpoint } from './sts';
import { errorMessage } from '../redact';

/** What GetCallerIdentity answers. */
export interface CallerIdentity {
  Arn: string;
  AccountId: string;
  UserId: string;
  PrincipalId: string;
  Type: string;
}

export type IdentitySource = 'TCSS_BUDGET_KEY' | 'sts' | 'fallback';

export interface BudgetIdentity {
  /** The first argument of budgetId(). */
  key: string;
  source: IdentitySource;
}

/** The identity Tencent counts, from a GetCallerIdentity answer. */
export function identityKey(id: CallerIdentity): string {
  const colon = id.UserId.indexOf(':');
  if (colon > 0) return `role:${id.AccountId}/${id.UserId.slice(0, colon)}`;
  const roleName = /:roleName\/([^/]+)/.exec(id.Arn)?.[1];
  if (roleName !== undefined) return `role:${id.AccountId}/${roleName}`;
  return `uin:${id.UserId || id.PrincipalId}`;
}

export async function getCallerIdentity(tcss: TcssConfig, credential: UsableCredential): Promise<CallerIdentity> {
  const sts = createStsClient(tcss, credential);
  const r = (await sts.request('GetCallerIdentity', {})) as Partial<CallerIdentity>;
  if (typeof r.UserId !== 'string' || typeof r.AccountId !== 'string' || typeof r.Arn !== 'string') {
    throw new Error(`GetCallerIdentity answered without UserId/AccountId/Arn: ${JSON.stringify(r).slice(0, 200)}`);
  }
  return {
    Arn: r.Arn,
    AccountId: r.AccountId,
    UserId: r.UserId,
    PrincipalId: String(r.PrincipalId ?? ''),
    Type: String(r.Type ?? ''),
  };
}

/**
 * GetCallerIdentity is asked up to this many times before falling back: one lost or hung answer must
 * not key this worker's budget apart from its peers' (a split budget lets both spend the full limit).
 */
export const STS_ATTEMPTS = 3;
const STS_RETRY_PAUSE_MS = 200;

async function askWithRetries<T>(ask: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ask();
    } catch (err) {
      if (attempt >= STS_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, STS_RETRY_PAUSE_MS));
    }
  }
}

/** Learns the identity for the current credentials (see the file comment for the fallbacks). */
export async function learnBudgetIdentity(
  tcss: TcssConfig,
  credentials: WatchedCredentials,
  logger: Logger,
): Promise<BudgetIdentity> {
  if (tcss.budgetKey !== undefined) return { key: `custom:${tcss.budgetKey}`, source: 'TCSS_BUDGET_KEY' };
  let credential: UsableCredential;
  try {
    credential = await credentials.getCredential();
  } catch (err) {
    const key =
      tcss.roleArn !== undefined && credentials.source === 'role'
        ? `role-arn:${tcss.roleArn}`
        : `source:${credentials.source}`;
    logger.error(
      { err: errorMessage(err), budgetKey: key },
      'NO CREDENTIALS YET: cannot learn the caller identity; the shared budget is keyed by the credential source until they come',
    );
    return { key, source: 'fallback' };
  }
  try {
    const id = await askWithRetries(() => getCallerIdentity(tcss, credential));
    const key = identityKey(id);
    logger.info(
      { identity: key, type: id.Type, stsEndpoint: stsEndpoint(tcss).origin },
      'caller identity learned: the shared budget is keyed by it',
    );
    return { key, source: 'sts' };
  } catch (err) {
    logger.error(
      { err: errorMessage(err), stsEndpoint: stsEndpoint(tcss).origin },
      `STS UNREACHABLE: could not learn the caller identity (GetCallerIdentity, ${STS_ATTEMPTS} attempts); the shared budget is keyed by the SecretId instead. ` +
        'Workers using other keys of the same CAM user will NOT share one budget and may exceed the limit together. ' +
        'Fix TENCENTCLOUD_STS_ENDPOINT / network access to STS, or set TCSS_BUDGET_KEY.',
    );
    return { key: `secretId:${credential.secretId}`, source: 'fallback' };
  }
}

/**
 * The identity, learned at start and again whenever the credentials change (a renewal, a rotated
 * key); `onChange` hears when the key differs.
 */
export class IdentityWatcher {
  private relearning: Promise<void> | undefined;
  private again = false;

  private constructor(
    private current: BudgetIdentity,
    private readonly tcss: TcssConfig,
    private readonly credentials: WatchedCredentials,
    private readonly logger: Logger,
    private readonly onChange: (next: BudgetIdentity, previous: BudgetIdentity) => Promise<void> | void,
  ) {}

  static async start(
    tcss: TcssConfig,
    credentials: WatchedCredentials,
    logger: Logger,
    onChange: (next: BudgetIdentity, previous: BudgetIdentity) => Promise<void> | void,
  ): Promise<IdentityWatcher> {
    const first = await learnBudgetIdentity(tcss, credentials, logger);
    const watcher = new IdentityWatcher(first, tcss, credentials, logger, onChange);
    if (first.source !== 'TCSS_BUDGET_KEY') credentials.onChange(() => void watcher.relearn());
    return watcher;
  }

  get identity(): BudgetIdentity {
    return this.current;
  }

  /** Learns again (coalesced: one at a time, once more if asked meanwhile). Never throws. */
  relearn(): Promise<void> {
    if (this.relearning) {
      this.again = true;
      return this.relearning;
    }
    this.relearning = (async () => {
      do {
        this.again = false;
        const next = await learnBudgetIdentity(this.tcss, this.credentials, this.logger);
        // A fallback after a good answer is a blip of STS, not a new identity: keep the good one.
        if (next.key !== this.current.key && !(next.source === 'fallback' && this.current.source === 'sts')) {
          const previous = this.current;
          this.current = next;
          this.logger.warn({ from: previous.key, to: next.key }, 'caller identity changed: moving to its budget');
          await Promise.resolve(this.onChange(next, previous)).catch((err: unknown) =>
            this.logger.error({ err }, 'could not move to the new budget'),
          );
        }
      } while (this.again);
    })().finally(() => (this.relearning = undefined));
    return this.relearning;
  }
}
