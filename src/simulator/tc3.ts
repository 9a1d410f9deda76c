/**
 * TC3-HMAC-SHA256, Tencent Cloud API 3.0 request signing, as pure functions: the signing steps, a
 * signer (for tests and tools) and `verifyTc3Request`, which checks a received request the way the
 * gateway does, in the gateway's order, and answers with the Tencent error code of the first failure.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { headerValue, type ReceivedHeaders } from './http';

export const TC3_ALGORITHM = 'TC3-HMAC-SHA256';

/** How far X-TC-Timestamp may be from server time before AuthFailure.SignatureExpire. */
export const TC3_MAX_SKEW_SECONDS = 300;

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Uint8Array, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** UTC date (YYYY-MM-DD) of a Unix timestamp in seconds: the date of the credential scope. */
export function utcDate(timestampSeconds: number): string {
  return new Date(timestampSeconds * 1000).toISOString().slice(0, 10);
}

/**
 * Lower-cased, trimmed header values keyed by lower-cased, trimmed name. The caller passes the host
 * it wants signed; `hostWithoutPort` matches what the official SDK signs (`URL.hostname`).
 */
export type SignedHeaderValues = Readonly<Record<string, string>>;

export interface CanonicalRequestInput {
  method: string;
  /** URL path, `/` for the API. */
  path: string;
  /** Raw query string without `?`, empty for POST. */
  query: string;
  /** Headers to sign (names and values are normalised here). */
  headers: SignedHeaderValues;
  /** Exact body bytes (a string is taken as UTF-8). */
  payload: string | Uint8Array;
}

export interface CanonicalRequest {
  canonicalRequest: string;
  /** Signed header names joined by `;`, sorted. */
  signedHeaders: string;
  hashedPayload: string;
}

export function buildCanonicalRequest(input: CanonicalRequestInput): CanonicalRequest {
  const entries = Object.entries(input.headers)
    .map(([k, v]) => [k.trim().toLowerCase(), v.trim().toLowerCase()] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonicalHeaders = entries.map(([k, v]) => `${k}:${v}\n`).join('');
  const signedHeaders = entries.map(([k]) => k).join(';');
  const hashedPayload = sha256Hex(input.payload);
  const canonicalRequest = [
    input.method.toUpperCase(),
    input.path,
    input.query,
    canonicalHeaders,
    signedHeaders,
    hashedPayload,
  ].join('\n');
  return { canonicalRequest, signedHeaders, hashedPayload };
}

export function credentialScope(timestampSeconds: number, service: string): string {
  return `${utcDate(timestampSeconds)}/${service}/tc3_request`;
}

export function buildStringToSign(timestampSeconds: number, service: string, canonicalRequest: string): string {
  return [
    TC3_ALGORITHM,
    String(timestampSeconds),
    credentialScope(timestampSeconds, service),
    sha256Hex(canonicalRequest),
  ].join('\n');
}

/** kSigning = HMAC(HMAC(HMAC("TC3" + SecretKey, date), service), "tc3_request"). */
export function deriveSigningKey(secretKey: string, date: string, service: string): Buffer {
  const kDate = hmac(`TC3${secretKey}`, date);
  const kService = hmac(kDate, service);
  return hmac(kService, 'tc3_request');
}

export function computeSignature(signingKey: Uint8Array, stringToSign: string): string {
  return createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
}

export interface SignTc3Input extends CanonicalRequestInput {
  secretId: string;
  secretKey: string;
  service: string;
  timestampSeconds: number;
}

export interface SignTc3Result extends CanonicalRequest {
  stringToSign: string;
  signature: string;
  authorization: string;
}

/** Signs a request; returns every intermediate value so tests can compare them with a vector. */
export function signTc3(input: SignTc3Input): SignTc3Result {
  const canonical = buildCanonicalRequest(input);
  const stringToSign = buildStringToSign(input.timestampSeconds, input.service, canonical.canonicalRequest);
  const key = deriveSigningKey(input.secretKey, utcDate(input.timestampSeconds), input.service);
  const signature = computeSignature(key, stringToSign);
  const authorization =
    `${TC3_ALGORITHM} Credential=${input.secretId}/${credentialScope(input.timestampSeconds, input.service)}, ` +
    `SignedHeaders=${canonical.signedHeaders}, Signature=${signature}`;
  return { ...canonical, stringToSign, signature, authorization };
}

export interface ParsedAuthorization {
  secretId: string;
  /** Credential date, YYYY-MM-DD as sent. */
  date: string;
  service: string;
  /** Lower-cased header names, in the order sent. */
  signedHeaders: string[];
  /** 64 hex digits, lower-cased. */
  signature: string;
}

/**
 * Parses `TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=<a;b>,
 * Signature=<hex>`; null when it is not of that form.
 */
export function parseAuthorization(header: string | undefined): ParsedAuthorization | null {
  if (header === undefined) return null;
  const trimmed = header.trim();
  if (!trimmed.startsWith(`${TC3_ALGORITHM} `)) return null;
  const fields = new Map<string, string>();
  for (const part of trimmed.slice(TC3_ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    const name = part.slice(0, eq).trim();
    if (fields.has(name)) return null;
    fields.set(name, part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined || fields.size !== 3)
    return null;

  const scope = credential.split('/');
  const [secretId, date, service, terminator] = scope;
  if (scope.length !== 4 || secretId === undefined || date === undefined || service === undefined) return null;
  if (terminator !== 'tc3_request' || secretId === '' || service === '') return null;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return null;

  const headerNames = signedHeaders.split(';');
  if (headerNames.some((h) => !/^[a-z0-9-]+$/.test(h))) return null;
  // The gateway requires at least these two (docs/tcss-api.md, Signature v3 step 1).
  if (!headerNames.includes('content-type') || !headerNames.includes('host')) return null;

  if (!/^[0-9a-fA-F]{64}$/.test(signature)) return null;
  return { secretId, date, service, signedHeaders: headerNames, signature: signature.toLowerCase() };
}

/** `host[:port]` → host, keeping IPv6 brackets (`[::1]:80` → `[::1]`), as `URL.hostname` would. */
export function hostWithoutPort(host: string): string {
  const h = host.trim();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(0, end + 1);
  }
  const colon = h.lastIndexOf(':');
  return colon !== -1 && h.indexOf(':') === colon && /^\d*$/.test(h.slice(colon + 1)) ? h.slice(0, colon) : h;
}

/** Received headers as node gives them: lower-cased names, string or repeated values. */
export type { ReceivedHeaders };

export interface VerifyTc3Input {
  method: string;
  path: string;
  /** Raw query string without `?`. */
  query: string;
  headers: ReceivedHeaders;
  body: Uint8Array;
  /** Service the credential scope must name (`tcss`). */
  service: string;
  /** Server wall-clock time in ms (already shifted by any simulated clock offset). */
  nowMs: number;
  /** The SecretKey of a usable SecretId; undefined for unknown or revoked ones. */
  resolveSecretKey: (secretId: string) => string | undefined;
  maxSkewSeconds?: number;
}

export type Tc3FailureCode =
  | 'AuthFailure.InvalidAuthorization'
  | 'AuthFailure.SignatureExpire'
  | 'AuthFailure.SignatureFailure'
  | 'AuthFailure.SecretIdNotFound';

export type Tc3VerifyResult =
  | { ok: true; secretId: string; timestampSeconds: number }
  /** `secretId` is the one claimed in the header, when it could be read (not authenticated). */
  | { ok: false; code: Tc3FailureCode; message: string; secretId?: string };

/**
 * Checks a request's TC3 signature in the gateway's order: well-formed Authorization → service →
 * timestamp within the skew → credential date = timestamp's UTC date → SecretId usable → signature.
 */
export function verifyTc3Request(input: VerifyTc3Input): Tc3VerifyResult {
  const auth = parseAuthorization(headerValue(input.headers, 'authorization'));
  if (auth === null) {
    return {
      ok: false,
      code: 'AuthFailure.InvalidAuthorization',
      message:
        'Authorization is missing or malformed; expected `TC3-HMAC-SHA256 Credential=<SecretId>/<date>/<service>/tc3_request, ' +
        'SignedHeaders=content-type;host, Signature=<64 hex>`.',
    };
  }
  const claimed = auth.secretId;
  if (auth.service !== input.service) {
    return {
      ok: false,
      code: 'AuthFailure.InvalidAuthorization',
      message: `Credential scope service is \`${auth.service}\`, expected \`${input.service}\`.`,
      secretId: claimed,
    };
  }

  const rawTimestamp = headerValue(input.headers, 'x-tc-timestamp')?.trim();
  const serverSeconds = Math.floor(input.nowMs / 1000);
  const timestampSeconds = rawTimestamp !== undefined && /^\d{1,12}$/.test(rawTimestamp) ? Number(rawTimestamp) : NaN;
  const maxSkew = input.maxSkewSeconds ?? TC3_MAX_SKEW_SECONDS;
  if (Number.isNaN(timestampSeconds) || Math.abs(serverSeconds - timestampSeconds) > maxSkew) {
    return {
      ok: false,
      code: 'AuthFailure.SignatureExpire',
      message: `Signature expired. Timestamp:${rawTimestamp ?? '(missing X-TC-Timestamp)'}. Server time:${serverSeconds}.`,
      secretId: claimed,
    };
  }
  if (auth.date !== utcDate(timestampSeconds)) {
    return {
      ok: false,
      code: 'AuthFailure.SignatureFailure',
      message: `Credential date ${auth.date} is not the UTC date of X-TC-Timestamp ${timestampSeconds} (${utcDate(timestampSeconds)}).`,
      secretId: claimed,
    };
  }

  const secretKey = input.resolveSecretKey(claimed);
  if (secretKey === undefined) {
    return {
      ok: false,
      code: 'AuthFailure.SecretIdNotFound',
      message: 'The SecretId is not found, please ensure that your SecretId is correct.',
      secretId: claimed,
    };
  }

  const mismatch = signatureMismatch(input, auth, secretKey, timestampSeconds);
  if (mismatch !== undefined)
    return { ok: false, code: 'AuthFailure.SignatureFailure', message: mismatch, secretId: claimed };
  return { ok: true, secretId: claimed, timestampSeconds };
}

/** Why the request's signature is not the one `secretKey` makes for it; undefined when it is. */
function signatureMismatch(
  input: VerifyTc3Input,
  auth: ParsedAuthorization,
  secretKey: string,
  timestampSeconds: number,
): string | undefined {
  const signed: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = headerValue(input.headers, name);
    if (value === undefined) return `Signed header \`${name}\` is not in the request.`;
    signed[name] = name === 'host' ? hostWithoutPort(value) : value;
  }
  const { canonicalRequest } = buildCanonicalRequest({
    method: input.method,
    path: input.path,
    query: input.query,
    headers: signed,
    payload: input.body,
  });
  const stringToSign = buildStringToSign(timestampSeconds, auth.service, canonicalRequest);
  const expected = Buffer.from(
    computeSignature(deriveSigningKey(secretKey, auth.date, auth.service), stringToSign),
    'hex',
  );
  const received = Buffer.from(auth.signature, 'hex');
  if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
    return 'The provided credentials could not be validated. Please check your signature is correct.';
  }
  return undefined;
}
