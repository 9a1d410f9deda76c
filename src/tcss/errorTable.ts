/**
 * What to do with each answer of the TCSS API: one table, keyed by Tencent error code (see
 * ../shared/tcss-api.md), instead of ifs scattered through the worker.
 *
 * - throttle: the shared budget is spent (maybe by another user of the key). Slow the cluster-wide
 *   limiter down and call again; this does not use up the job's attempts.
 * - retry:    a transient fault. Retry with exponential backoff and jitter, up to TCSS_MAX_ATTEMPTS,
 *             then fail with the last code.
 * - pause:    the credentials are wrong or revoked: every job would fail. Stop taking jobs, put this
 *             one back in the queue, and say so loudly. Never fail the backlog because a key rotated.
 * - fail:     the request itself is wrong: fail this job permanently with the code and message.
 */
export type ErrorAction = 'throttle' | 'retry' | 'pause' | 'fail';

/** Exact codes. Prefix rules below catch sub-codes such as `RequestLimitExceeded.UinLimitExceeded`. */
const EXACT: Readonly<Record<string, ErrorAction>> = {
  RequestLimitExceeded: 'throttle',

  InternalError: 'retry',
  ServiceUnavailable: 'retry',
  ResourceUnavailable: 'retry',
  ResourceInsufficient: 'retry',
  ResourceInUse: 'retry',
  FailedOperation: 'retry',
  // Not a TCSS code: our client's names for faults below the API (see client.ts).
  NetworkError: 'retry',
  Timeout: 'retry',
  HttpError: 'retry',

  AuthFailure: 'pause',
  UnauthorizedOperation: 'pause',
  IpInBlacklist: 'pause',
  IpNotInWhitelist: 'pause',

  InvalidParameter: 'fail',
  InvalidParameterValue: 'fail',
  MissingParameter: 'fail',
  UnknownParameter: 'fail',
  OperationDenied: 'fail',
  ResourceNotFound: 'fail',
  InvalidAction: 'fail',
  ActionOffline: 'fail',
  NoSuchProduct: 'fail',
  NoSuchVersion: 'fail',
  InvalidRequest: 'fail',
  LimitExceeded: 'fail',
  RequestSizeLimitExceeded: 'fail',
  ResponseSizeLimitExceeded: 'fail',
  UnsupportedOperation: 'fail',
  UnsupportedProtocol: 'fail',
  UnsupportedRegion: 'fail',
  DryRunOperation: 'fail',
};

/** Families: a code `Family.Sub` not listed exactly takes its family's action. */
const FAMILIES: ReadonlyArray<readonly [string, ErrorAction]> = [
  ['RequestLimitExceeded.', 'throttle'],
  ['AuthFailure.', 'pause'],
  ['UnauthorizedOperation.', 'pause'],
  ['InvalidParameter.', 'fail'],
  ['InvalidParameterValue.', 'fail'],
  ['MissingParameter.', 'fail'],
  ['UnknownParameter.', 'fail'],
  ['OperationDenied.', 'fail'],
  ['ResourceNotFound.', 'fail'],
  ['LimitExceeded.', 'fail'],
  ['UnsupportedOperation.', 'fail'],
  ['InternalError.', 'retry'],
  ['FailedOperation.', 'retry'],
  ['ResourceUnavailable.', 'retry'],
  ['ResourceInsufficient.', 'retry'],
];

/**
 * The action for a code. Unknown codes are retried: a transient fault we have not seen before should
 * not lose a job, and the attempts bound how long we insist.
 */
export function actionFor(code: string): ErrorAction {
  const exact = EXACT[code];
  if (exact) return exact;
  for (const [prefix, action] of FAMILIES) if (code.startsWith(prefix)) return action;
  return 'retry';
}

/** Every code the table names (for tests and docs). */
export const KNOWN_CODES: readonly string[] = Object.keys(EXACT);
