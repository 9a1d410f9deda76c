/**
 * One API request (`POST /`) from arrival to answer: arrival jitter, the body, the gateway's verdict,
 * the call log, then the answer after the injected latency, or none for a hung call.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatorCall } from './callLog';
import { evaluate, type Outcome } from './gateway';
import { headerString, readBody, sendJson } from './http';
import { parseBody, readScanFields, type ParsedBody } from './scanParams';
import type { SimulatorState } from './state';
import { STS_ACTIONS } from './sts';

export async function handleApiRequest(
  state: SimulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  receivedMs: number,
  path: string,
  query: string,
): Promise<void> {
  const { faults, lifecycle } = state;
  const jitterMs = faults.arrivalJitterMs();
  const arrivalMs = receivedMs + jitterMs;
  if (jitterMs > 0) {
    await lifecycle.delay(jitterMs);
    if (lifecycle.closed) return;
  }
  const seq = state.log.nextSeq();
  const read = await readBody(req, state.opts.maxBodyBytes);
  if (read === null || lifecycle.closed) return;
  let parsed: ParsedBody | undefined;
  const body = (): ParsedBody => (parsed ??= parseBody(read.bytes));
  const outcome = evaluate(state, req, { bytes: read.bytes, tooLarge: read.tooLarge, body, arrivalMs, path, query });
  const requestId = randomUUID();
  const hung = faults.hangs();
  const action = headerString(req, 'x-tc-action') ?? '';
  const scanFields = outcome.admitted && !read.tooLarge && !STS_ACTIONS.has(action) ? readScanFields(body()) : {};
  state.log.record(callOf({ seq, arrivalMs, action, outcome, scanFields, requestId, hung }));
  // A hung call keeps its socket open with no answer; close() destroys it.
  if (hung) return;

  const response = responseOf(outcome, requestId);
  const traceId = headerString(req, 'x-tc-traceid');
  const answer = (): void => sendJson(res, 200, response, traceId !== undefined ? { 'X-TC-TraceId': traceId } : {});
  const delay = faults.answerDelayMs();
  if (delay <= 0) return answer();
  lifecycle.after(delay, answer);
}

interface CallFacts {
  seq: number;
  arrivalMs: number;
  action: string;
  outcome: Outcome;
  /** The scan's parameters, for an admitted TCSS call; {} otherwise. */
  scanFields: Partial<Pick<SimulatorCall, 'policyItemId' | 'assetIds' | 'assetType'>>;
  requestId: string;
  hung: boolean;
}

function callOf({ seq, arrivalMs, action, outcome, scanFields, requestId, hung }: CallFacts): SimulatorCall {
  return {
    seq,
    arrivalMs,
    // Unauthenticated requests keep nothing of what they claim (the log is capped, not their size).
    secretId: outcome.principal !== undefined ? outcome.secretId : outcome.secretId.slice(0, 64),
    principal: outcome.principal ?? '',
    action: action.slice(0, 64),
    ...scanFields,
    code: outcome.code,
    ...(outcome.message !== undefined ? { message: outcome.message } : {}),
    ...(outcome.taskId !== undefined ? { taskId: outcome.taskId } : {}),
    requestId,
    admitted: outcome.admitted,
    hung,
  };
}

/** Tencent's response shape: HTTP 200 either way, `Response.Error` for errors. */
function responseOf(outcome: Outcome, requestId: string): { Response: Record<string, unknown> } {
  if (outcome.code !== 'OK') {
    return {
      Response: { Error: { Code: outcome.code, Message: outcome.message ?? outcome.code }, RequestId: requestId },
    };
  }
  return {
    Response:
      outcome.sts !== undefined
        ? { ...outcome.sts, RequestId: requestId }
        : { TaskId: outcome.taskId, RequestId: requestId },
  };
}
