/**
 * What to do with each answer of the TCSS API: one table, keyed by Tencent error code (see
 * docs/tcss-api.md), instead of ifs scattered through the worker.
 *
 * Action (what the worker does):
 * - throttle: the shared budget is spent (maybe by another user of the key). Slow the cluster-wide
 *   limiter down and call again; this does not use up the job's attempts.
 * - retry:    a transient fault. Retry with exponential backoff and jitter, up to TCSS_MAX_ATTEMPTS,
 *             then fail with the last code.
 * - pause:    every job would fail the same way (credentials, account, configuration). Stop taking
 *             jobs, put this one back in the queue, say why (logs, `status`, /readyz), fail nothing.
 * - fail:     the request itself is wrong: fail the job permanently with the code, message, RequestId.
 *
 * Scope (whom the answer is about):
 * - job:     may be about one member of a merged call (an asset id or the check item that does not
 *            exist, a value out of range). A merged call refused so is split and called again
 *            (bisect, worker/groupCall.ts) so that only the jobs at fault fail.
 * - call:    about this call as a whole (its shape, the API's state at that moment): every job the
 *            call covered gets the same answer.
 * - account: about the account, the key or our configuration (endpoint, version, region): it would be
 *            the answer for every job, so the workers pause instead of failing the backlog.
 *
 * Sources (`src` in the table), read on 2026-12-02:
 * - common: Tencent Cloud API 3.0 common error codes, listed on every product's "Error Codes" page,
 *   e.g. https://www.tencentcloud.com/document/api/1226/66402 (ActionOffline "This API has been
 *   deprecated", AuthFailure.* key and signature errors, RequestLimitExceeded "frequency limit", ...).
 * - tcss:   TCSS 2020-11-01's own codes, as the official SDKs list them:
 *   https://github.com/TencentCloud/tencentcloud-sdk-go/blob/master/tencentcloud/tcss/v20201101/errors.go
 *   (e.g. FailedOperation.AuthorizedNotEnough "授权数不足" = not enough licences,
 *   InternalError.ErrRoleNotExist "用户未授权" = the user has not authorised the service role,
 *   FailedOperation.AgentOffline "客户端已离线" = the asset's agent is offline).
 * - ours:   not a Tencent code: our client's names for faults below the API (client.ts).
 *
 * Fix (pause codes only): what the operator has to fix before restarting the paused workers; the
 * worker's log line says it (PAUSE_ADVICE).
 */
export type ErrorAction = 'throttle' | 'retry' | 'pause' | 'fail';
export type ErrorScope = 'job' | 'call' | 'account';
export type ErrorSource = 'common' | 'tcss' | 'ours';
export type PauseFix = 'clock' | 'credentials' | 'configuration' | 'account';

export interface ErrorRule {
  action: ErrorAction;
  scope: ErrorScope;
  src: ErrorSource;
  /** What the code means, in our words (from `src`). */
  meaning: string;
  /** For `pause` codes: what to fix (see PAUSE_ADVICE). */
  fix?: PauseFix;
}

/** What a worker says when it pauses, by what has to be fixed. */
export const PAUSE_ADVICE: Readonly<Record<PauseFix, string>> = {
  clock:
    "CLOCK OFF: the API refused the request's timestamp (more than 5 minutes from its clock): this worker stops taking jobs; the backlog waits. Fix this machine's clock (NTP) and restart the worker.",
  credentials:
    'CREDENTIALS REFUSED by the API: this worker stops taking jobs; the backlog waits. Fix TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY and restart the worker.',
  configuration:
    'CONFIGURATION REFUSED by the API (endpoint, version or region): every job would fail, so this worker stops taking jobs; the backlog waits. Check TCSS_ENDPOINT and TCSS_REGION and restart the worker.',
  account:
    'ACCOUNT REFUSED by the API (service not bought or not authorised, licences used up): every job would fail, so this worker stops taking jobs; the backlog waits. Fix the account in the TCSS console and restart the worker.',
};

const rule = (action: ErrorAction, scope: ErrorScope, src: ErrorSource, meaning: string): ErrorRule => ({
  action,
  scope,
  src,
  meaning,
});
/** A code that would fail every job: the workers pause until `fix` is done. */
const pause = (src: ErrorSource, meaning: string, fix: PauseFix): ErrorRule => ({
  action: 'pause',
  scope: 'account',
  src,
  meaning,
  fix,
});

/** Exact codes. The family rules below catch sub-codes such as `RequestLimitExceeded.UinLimitExceeded`. */
const EXACT: Readonly<Record<string, ErrorRule>> = {
  RequestLimitExceeded: rule(
    'throttle',
    'call',
    'common',
    'more requests than the frequency limit (per sub-account, action and region)',
  ),

  InternalError: rule('retry', 'call', 'common', 'internal error of the service'),
  'InternalError.MainDBFail': rule('retry', 'call', 'tcss', 'the service failed to operate its database'),
  ServiceUnavailable: rule('retry', 'call', 'common', 'the service is temporarily unavailable'),
  ResourceUnavailable: rule('retry', 'call', 'common', 'the resource is unavailable'),
  ResourceInsufficient: rule('retry', 'call', 'common', 'insufficient resources'),
  ResourceInUse: rule('retry', 'call', 'common', 'the resource is in use'),
  FailedOperation: rule('retry', 'call', 'common', 'the operation failed (no reason given)'),
  'FailedOperation.ErrAlreadyScanning': rule(
    'retry',
    'call',
    'tcss',
    'a scan is already running (or scanning is not authorised yet)',
  ),
  'FailedOperation.DataValueNotCorrect': rule('retry', 'call', 'tcss', 'the service read an incorrect data value'),
  NetworkError: rule('retry', 'call', 'ours', 'no HTTP answer: connection refused, reset or closed'),
  Timeout: rule('retry', 'call', 'ours', 'no answer within TCSS_TIMEOUT_MS'),
  HttpError: rule('retry', 'call', 'ours', 'an HTTP status other than 200 (a proxy or gateway in the way)'),
  UnexpectedAnswer: rule(
    'fail',
    'call',
    'ours',
    'a success answer without a readable TaskId: a task may exist, so never called again',
  ),

  AuthFailure: pause('common', 'CAM signature or authentication failed', 'credentials'),
  'AuthFailure.SignatureExpire': pause(
    'common',
    "the request's timestamp is more than 5 minutes from the API's clock",
    'clock',
  ),
  UnauthorizedOperation: pause('common', 'the key may not call this action (CAM policy)', 'credentials'),
  IpInBlacklist: pause('common', "the caller's IP address is on a blacklist", 'credentials'),
  IpNotInWhitelist: pause('common', "the caller's IP address is not on the allow list", 'credentials'),
  InvalidAction: pause('common', 'the action does not exist (wrong endpoint or product)', 'configuration'),
  ActionOffline: pause('common', 'the action has been withdrawn', 'configuration'),
  NoSuchProduct: pause('common', 'the product does not exist (wrong endpoint)', 'configuration'),
  NoSuchVersion: pause('common', 'the API version does not exist', 'configuration'),
  UnsupportedRegion: pause('common', 'the action is not offered in this region (TCSS_REGION)', 'configuration'),
  UnsupportedProtocol: pause('common', 'wrong HTTP method or protocol', 'configuration'),
  OperationDenied: pause(
    'tcss',
    'the operation is refused for this account (e.g. the service is not bought)',
    'account',
  ),
  'InternalError.ErrRoleNotExist': pause('tcss', 'the account has not authorised the TCSS service role', 'account'),
  'FailedOperation.AuthorizedNotEnough': pause('tcss', 'not enough licences (authorisations) left', 'account'),

  InvalidParameter: rule('fail', 'job', 'common', 'a parameter is wrong'),
  'InvalidParameter.MissingParameter': rule('fail', 'call', 'tcss', 'a required parameter is missing'),
  InvalidParameterValue: rule(
    'fail',
    'job',
    'common',
    'a parameter has a wrong value (e.g. an asset that does not exist)',
  ),
  'InvalidParameterValue.DataNotFound': rule('fail', 'job', 'tcss', 'the data asked for was not found'),
  ResourceNotFound: rule('fail', 'job', 'common', 'the resource does not exist'),
  'FailedOperation.AgentOffline': rule('fail', 'job', 'tcss', "an asset's agent is offline"),
  MissingParameter: rule('fail', 'call', 'common', 'a required parameter is missing'),
  UnknownParameter: rule('fail', 'call', 'common', 'an unknown parameter was sent'),
  InvalidRequest: rule('fail', 'call', 'common', 'the request is malformed (e.g. its body or Content-Type)'),
  LimitExceeded: rule('fail', 'call', 'common', 'a quota is exceeded'),
  RequestSizeLimitExceeded: rule('fail', 'call', 'common', 'the request body is too large'),
  ResponseSizeLimitExceeded: rule('fail', 'call', 'common', 'the response would be too large'),
  UnsupportedOperation: rule('fail', 'call', 'common', 'the operation is not supported'),
  DryRunOperation: rule('fail', 'call', 'common', 'a dry run: the request would have succeeded'),
};

/** Families: a code `Family.Sub` not listed exactly takes its family's rule. */
const FAMILIES: ReadonlyArray<readonly [string, ErrorRule]> = [
  ['RequestLimitExceeded.', EXACT.RequestLimitExceeded!],
  ['AuthFailure.', EXACT.AuthFailure!],
  ['UnauthorizedOperation.', EXACT.UnauthorizedOperation!],
  ['OperationDenied.', EXACT.OperationDenied!],
  ['InvalidParameter.', EXACT.InvalidParameter!],
  ['InvalidParameterValue.', EXACT.InvalidParameterValue!],
  ['ResourceNotFound.', EXACT.ResourceNotFound!],
  ['MissingParameter.', EXACT.MissingParameter!],
  ['UnknownParameter.', EXACT.UnknownParameter!],
  ['LimitExceeded.', EXACT.LimitExceeded!],
  ['UnsupportedOperation.', EXACT.UnsupportedOperation!],
  ['InternalError.', EXACT.InternalError!],
  ['FailedOperation.', EXACT.FailedOperation!],
  ['ResourceUnavailable.', EXACT.ResourceUnavailable!],
  ['ResourceInsufficient.', EXACT.ResourceInsufficient!],
  ['ResourceInUse.', EXACT.ResourceInUse!],
];

/**
 * Unknown codes are retried: a transient fault we have not seen before should not lose a job, and the
 * attempts bound how long we insist.
 */
const UNKNOWN: ErrorRule = rule(
  'retry',
  'call',
  'ours',
  'a code this table does not know: retried within the attempts',
);

/** The rule for a code: exact, else its family, else UNKNOWN. */
export function ruleFor(code: string): ErrorRule {
  const exact = Object.hasOwn(EXACT, code) ? EXACT[code] : undefined;
  if (exact) return exact;
  for (const [prefix, r] of FAMILIES) if (code.startsWith(prefix)) return r;
  return UNKNOWN;
}

/** The action for a code (see ruleFor). */
export function actionFor(code: string): ErrorAction {
  return ruleFor(code).action;
}

/** Whom a code is about (see ruleFor). */
export function scopeFor(code: string): ErrorScope {
  return ruleFor(code).scope;
}

/** What to say when a worker pauses for `code` (a `pause` code; others get the account's advice). */
export function pauseAdviceFor(code: string): string {
  return PAUSE_ADVICE[ruleFor(code).fix ?? 'account'];
}

/** Whether `code` says the budget was spent (RequestLimitExceeded and its sub-codes). */
export function isThrottle(code: string): boolean {
  return ruleFor(code).action === 'throttle';
}

/** Every code the table names (for tests and docs). */
export const KNOWN_CODES: readonly string[] = Object.keys(EXACT);
