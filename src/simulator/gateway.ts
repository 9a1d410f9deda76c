/**
 * The gateway's checks on an API request, in its order; the first failure is the answer: method, body
 * size, the TC3 signature, a temporary key's token, action and version, the rate limit, and then the
 * action itself (STS, or the scan).
 */
import type { IncomingMessage } from 'node:http';
import type { KeyOwner } from './accounts';
import { headerString } from './http';
import { rateLimitMessage } from './rateCounter';
import { answerScan, SCAN_ACTION, TCSS_SERVICE, TCSS_VERSION } from './scanAction';
import type { ParsedBody } from './scanParams';
import type { SimulatorState } from './state';
import { answerSts, STS_ACTIONS, STS_SERVICE, STS_VERSION } from './sts';
import { verifyTc3Request } from './tc3';

/** The answer to an API request, before it is logged and sent. */
export interface Outcome {
  code: string;
  message?: string;
  secretId: string;
  principal?: string;
  admitted: boolean;
  taskId?: number;
  /** The answer of an STS action. */
  sts?: Record<string, unknown>;
}

/** An API request once its body is in. */
export interface ReceivedRequest {
  bytes: Buffer;
  tooLarge: boolean;
  /** The body parsed on first use (auth failures never parse it). */
  body: () => ParsedBody;
  arrivalMs: number;
  path: string;
  query: string;
}

function refused(code: string, message: string, secretId = ''): Outcome {
  return { code, message, secretId, admitted: false };
}

/** The key's owner, unless the key is unknown or revoked. */
function ownerOf(state: SimulatorState, secretId: string): KeyOwner | undefined {
  return state.faults.settings.revokedSecretIds.includes(secretId) ? undefined : state.keys.lookup(secretId);
}

type Authenticated = { ok: true; secretId: string; owner: KeyOwner } | { ok: false; outcome: Outcome };

/** The TC3 signature for `service`, then a temporary key's token. */
function authenticate(
  state: SimulatorState,
  req: IncomingMessage,
  received: ReceivedRequest,
  service: string,
  nowMs: number,
): Authenticated {
  const { bytes, path, query } = received;
  const resolveSecretKey = (id: string): string | undefined => ownerOf(state, id)?.secretKey;
  const auth = verifyTc3Request({
    method: 'POST',
    path,
    query,
    headers: req.headers,
    body: bytes,
    service,
    nowMs,
    resolveSecretKey,
  });
  if (!auth.ok) return { ok: false, outcome: refused(auth.code, auth.message, auth.secretId) };
  const secretId = auth.secretId;
  const owner = ownerOf(state, secretId) as KeyOwner;
  // Temporary keys carry their token; a missing, wrong or expired one is refused.
  if (owner.token !== undefined) {
    const token = headerString(req, 'x-tc-token');
    const expired = (owner.expiresAtMs ?? 0) <= nowMs;
    if (token !== owner.token || expired) {
      const why =
        token === undefined
          ? 'X-TC-Token is missing'
          : expired
            ? 'the temporary key has expired'
            : 'X-TC-Token does not match the key';
      return {
        ok: false,
        outcome: refused('AuthFailure.TokenFailure', `Token verification failed: ${why}.`, secretId),
      };
    }
  }
  return { ok: true, secretId, owner };
}

/** The gateway's checks, in its order; the first failure is the answer. */
export function evaluate(state: SimulatorState, req: IncomingMessage, received: ReceivedRequest): Outcome {
  if (req.method !== 'POST') {
    return refused(
      'UnsupportedProtocol',
      `The simulator accepts only POST with a JSON body, got ${req.method ?? '(no method)'}.`,
    );
  }
  if (received.tooLarge)
    return refused(
      'RequestSizeLimitExceeded',
      `The request body exceeds the limit of ${state.opts.maxBodyBytes} bytes.`,
    );

  // The action picks the product (on the real gateway, the host does): its service must sign it.
  const action = headerString(req, 'x-tc-action') ?? '';
  const isSts = STS_ACTIONS.has(action);
  const nowMs = Date.now() + state.faults.settings.clockOffsetMs;
  const auth = authenticate(state, req, received, isSts ? STS_SERVICE : TCSS_SERVICE, nowMs);
  if (!auth.ok) return auth.outcome;
  const { secretId, owner } = auth;

  const expectedVersion = isSts ? STS_VERSION : TCSS_VERSION;
  if (!isSts && action !== SCAN_ACTION) {
    return refused(
      'InvalidAction',
      `The action \`${action}\` is not found (the simulator implements only ${SCAN_ACTION}).`,
      secretId,
    );
  }
  const version = headerString(req, 'x-tc-version') ?? '';
  if (version !== expectedVersion) {
    return refused(
      'NoSuchVersion',
      `The API version \`${version}\` does not exist (expected ${expectedVersion}).`,
      secretId,
    );
  }

  // Tencent counts per sub-account and action, not per key (docs/tcss-api.md, "How Tencent counts").
  if (!isSts) state.background.catchUp(received.arrivalMs);
  const admission = state.rate.admit(owner.principal, action, received.arrivalMs);
  const principal = owner.principal;
  if (!admission.admitted) {
    return {
      ...refused('RequestLimitExceeded', rateLimitMessage(admission.count, state.faults.settings.rateLimit), secretId),
      principal,
    };
  }
  const admitted = { secretId, principal, admitted: true };
  if (isSts) {
    const answer = answerSts(
      action,
      owner,
      received.body(),
      state.keys,
      state.faults.settings.temporaryCredentialsTtlMs,
      Date.now(),
    );
    return answer.ok
      ? { code: 'OK', ...admitted, sts: answer.response }
      : { code: answer.code, message: answer.message, ...admitted };
  }
  const answer = answerScan(headerString(req, 'content-type'), received.body, state.faults, state.taskIds);
  return answer.ok
    ? { code: 'OK', ...admitted, taskId: answer.taskId }
    : { code: answer.code, message: answer.message, ...admitted };
}
