/**
 * Reads the API's answer exactly. The SDK's parseResponse uses `res.json()` (JSON.parse), which turns a
 * TaskId beyond 2^53 into a different number: an id that is not the task's, or one our checks refuse,
 * and a refused answer would be retried, creating the task again. We read the body as text and parse it
 * with the simulator's exact parser (numbers keep their literal text), then hand the SDK's own error
 * shape on, so everything after this is as with parseResponse.
 *
 * A TaskId is kept as a number when it is a safe integer (2^53-1 or less, as every TaskId seen so far),
 * and as its exact decimal text when larger.
 */
import TencentCloudSDKHttpException from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/exception/tencent_cloud_sdk_exception';
import { JsonNumber, parseExactJson, type JsonValue } from '../exactJson';
import { errorMessage } from '../redact';

/** What fetch gives back (node-fetch's Response, the part we use). */
export interface AnswerLike {
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** An answer without an error: the RequestId and the TaskId. */
export interface ExactAnswer {
  requestId: string;
  /** A safe integer as a number, a larger whole number as its exact decimal text; undefined otherwise. */
  taskId: number | string | undefined;
  /** The TaskId field as found (for messages when it is not a positive whole number). */
  rawTaskId: JsonValue | undefined;
}

/** A whole positive number's decimal text, exactly (no sign, fraction or exponent; no leading zeros). */
const WHOLE = /^[1-9]\d*$/;

/** The TaskId's exact value: a number when safe, else its decimal text; undefined when it is not a positive whole number. */
export function exactTaskId(value: unknown): number | string | undefined {
  if (value instanceof JsonNumber && WHOLE.test(value.raw)) {
    const n = Number(value.raw);
    return Number.isSafeInteger(n) ? n : value.raw;
  }
  return undefined;
}

function field(obj: JsonValue | undefined, key: string): JsonValue | undefined {
  return obj instanceof Map ? obj.get(key) : undefined;
}

/** Parses an answer; throws as the SDK's parseResponse does (HTTP status, Tencent error). */
export async function parseExactAnswer(res: AnswerLike): Promise<ExactAnswer> {
  const traceId = res.headers.get('x-tc-traceid') ?? '';
  if (res.status !== 200) {
    const e = new TencentCloudSDKHttpException(res.statusText, '', traceId);
    (e as unknown as { httpCode: number }).httpCode = res.status;
    throw e;
  }
  const text = await res.text();
  let body: JsonValue;
  try {
    body = parseExactJson(text);
  } catch (err) {
    // Not JSON: the SDK's res.json() would throw a SyntaxError here too (it maps to NetworkError, retried).
    throw new SyntaxError(`the API's answer is not JSON (${errorMessage(err)}): ${text.slice(0, 120)}`, { cause: err });
  }
  const response = field(body, 'Response');
  const rawRequestId = field(response, 'RequestId');
  const requestId = typeof rawRequestId === 'string' ? rawRequestId : '';
  const error = field(response, 'Error');
  if (error !== undefined) {
    const code = field(error, 'Code');
    const message = field(error, 'Message');
    const e = new TencentCloudSDKHttpException(typeof message === 'string' ? message : '', requestId, traceId);
    (e as unknown as { code: string }).code = typeof code === 'string' ? code : 'InternalError';
    throw e;
  }
  const rawTaskId = field(response, 'TaskId');
  return { requestId, taskId: exactTaskId(rawTaskId), rawTaskId };
}
