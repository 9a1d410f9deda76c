import Sign from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign';
import {
  buildCanonicalRequest,
  hostWithoutPort,
  parseAuthorization,
  sha256Hex,
  signTc3,
  verifyTc3Request,
  type VerifyTc3Input,
} from '../src/simulator/tc3';

// Tencent's published Signature v3 example (CVM DescribeInstances), see docs/tcss-api.md.
const VECTOR = {
  secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
  secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
  host: 'cvm.tencentcloudapi.com',
  contentType: 'application/json; charset=utf-8',
  timestamp: 1551113065,
  service: 'cvm',
  // The exact bytes, backslash-u escapes included (not the decoded characters).
  body: Buffer.from(
    String.raw`{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}`,
    'utf8',
  ),
  hashedPayload: '35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064',
  hashedCanonicalRequest: '5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031',
  signature: '72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
};

const signedVector = signTc3({
  method: 'POST',
  path: '/',
  query: '',
  headers: { 'content-type': VECTOR.contentType, host: VECTOR.host },
  payload: VECTOR.body,
  secretId: VECTOR.secretId,
  secretKey: VECTOR.secretKey,
  service: VECTOR.service,
  timestampSeconds: VECTOR.timestamp,
});

function vectorRequest(overrides: Partial<VerifyTc3Input> = {}, headers: Record<string, string> = {}): VerifyTc3Input {
  return {
    method: 'POST',
    path: '/',
    query: '',
    headers: {
      'content-type': VECTOR.contentType,
      host: VECTOR.host,
      'x-tc-timestamp': String(VECTOR.timestamp),
      authorization: signedVector.authorization,
      ...headers,
    },
    body: VECTOR.body,
    service: VECTOR.service,
    nowMs: VECTOR.timestamp * 1000 + 20_000,
    resolveSecretKey: (id) => (id === VECTOR.secretId ? VECTOR.secretKey : undefined),
    ...overrides,
  };
}

describe('TC3-HMAC-SHA256 signing: the published known-answer vector', () => {
  it('hashes the payload, the canonical request and signs as published', () => {
    expect(signedVector.hashedPayload).toBe(VECTOR.hashedPayload);
    expect(signedVector.canonicalRequest).toBe(
      [
        'POST',
        '/',
        '',
        `content-type:${VECTOR.contentType}`,
        `host:${VECTOR.host}`,
        '',
        'content-type;host',
        VECTOR.hashedPayload,
      ].join('\n'),
    );
    expect(sha256Hex(signedVector.canonicalRequest)).toBe(VECTOR.hashedCanonicalRequest);
    expect(signedVector.stringToSign).toBe(
      `TC3-HMAC-SHA256\n${VECTOR.timestamp}\n2019-02-25/cvm/tc3_request\n${VECTOR.hashedCanonicalRequest}`,
    );
    expect(signedVector.signature).toBe(VECTOR.signature);
    expect(signedVector.authorization).toBe(
      `TC3-HMAC-SHA256 Credential=${VECTOR.secretId}/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=${VECTOR.signature}`,
    );
  });

  it('produces the same Authorization as the official SDK (Sign.sign3)', () => {
    const sdk = Sign.sign3({
      method: 'POST',
      url: `https://${VECTOR.host}/`,
      payload: VECTOR.body,
      timestamp: VECTOR.timestamp,
      service: VECTOR.service,
      secretId: VECTOR.secretId,
      secretKey: VECTOR.secretKey,
      multipart: false,
      boundary: '',
      headers: { 'Content-Type': VECTOR.contentType },
    });
    expect(sdk).toBe(signedVector.authorization);
  });

  it('sorts and normalises signed headers (lower-cased, trimmed)', () => {
    const a = buildCanonicalRequest({
      method: 'post',
      path: '/',
      query: '',
      headers: { Host: ' CVM.tencentcloudapi.com ', 'Content-Type': 'Application/JSON; charset=utf-8' },
      payload: '',
    });
    const b = buildCanonicalRequest({
      method: 'POST',
      path: '/',
      query: '',
      headers: { 'content-type': 'application/json; charset=utf-8', host: 'cvm.tencentcloudapi.com' },
      payload: '',
    });
    expect(a).toEqual(b);
    expect(a.signedHeaders).toBe('content-type;host');
  });
});

describe('verifyTc3Request', () => {
  it('accepts the vector', () => {
    expect(verifyTc3Request(vectorRequest())).toEqual({
      ok: true,
      secretId: VECTOR.secretId,
      timestampSeconds: VECTOR.timestamp,
    });
  });

  it('rejects a change to any single byte of the body', () => {
    for (let i = 0; i < VECTOR.body.length; i++) {
      const body = Buffer.from(VECTOR.body);
      body[i] = (body[i] as number) ^ 0x01;
      const result = verifyTc3Request(vectorRequest({ body }));
      if (result.ok || result.code !== 'AuthFailure.SignatureFailure')
        throw new Error(`byte ${i} changed and still verified`);
    }
    expect(VECTOR.body.length).toBeGreaterThan(80);
  });

  it('rejects a changed signature, timestamp, host or signed header value', () => {
    const flipped = VECTOR.signature.slice(0, -1) + (VECTOR.signature.endsWith('8') ? '9' : '8');
    const badSig = signedVector.authorization.replace(VECTOR.signature, flipped);
    expect(verifyTc3Request(vectorRequest({}, { authorization: badSig }))).toMatchObject({
      ok: false,
      code: 'AuthFailure.SignatureFailure',
    });
    expect(verifyTc3Request(vectorRequest({}, { 'x-tc-timestamp': String(VECTOR.timestamp + 1) }))).toMatchObject({
      ok: false,
      code: 'AuthFailure.SignatureFailure',
    });
    expect(verifyTc3Request(vectorRequest({}, { host: 'cvm.intl.tencentcloudapi.com' }))).toMatchObject({
      ok: false,
      code: 'AuthFailure.SignatureFailure',
    });
    expect(verifyTc3Request(vectorRequest({}, { 'content-type': 'application/json' }))).toMatchObject({
      ok: false,
      code: 'AuthFailure.SignatureFailure',
    });
    expect(verifyTc3Request(vectorRequest({ method: 'GET' }))).toMatchObject({
      ok: false,
      code: 'AuthFailure.SignatureFailure',
    });
    expect(verifyTc3Request(vectorRequest({ query: 'a=1' }))).toMatchObject({
      ok: false,
      code: 'AuthFailure.SignatureFailure',
    });
  });

  it('compares host without its port, as the SDK signs URL.hostname', () => {
    expect(verifyTc3Request(vectorRequest({}, { host: `${VECTOR.host}:443` })).ok).toBe(true);
    expect(verifyTc3Request(vectorRequest({}, { host: `${VECTOR.host}:4010` })).ok).toBe(true);
    expect(hostWithoutPort('127.0.0.1:4010')).toBe('127.0.0.1');
    expect(hostWithoutPort('[::1]:4010')).toBe('[::1]');
    expect(hostWithoutPort('[::1]')).toBe('[::1]');
    expect(hostWithoutPort('example.com')).toBe('example.com');
  });

  it('checks in the gateway order: authorization, service, timestamp, date, SecretId, signature', () => {
    expect(verifyTc3Request(vectorRequest({}, { authorization: '' }))).toMatchObject({
      code: 'AuthFailure.InvalidAuthorization',
    });
    const noAuth = vectorRequest();
    noAuth.headers = { ...noAuth.headers, authorization: undefined };
    expect(verifyTc3Request(noAuth)).toMatchObject({ code: 'AuthFailure.InvalidAuthorization' });
    // Wrong service is refused before anything else, even with an expired timestamp.
    expect(verifyTc3Request(vectorRequest({ service: 'tcss', nowMs: 0 }))).toMatchObject({
      code: 'AuthFailure.InvalidAuthorization',
      secretId: VECTOR.secretId,
    });
    // Expired (or missing) timestamp before an unknown SecretId.
    expect(
      verifyTc3Request(vectorRequest({ nowMs: (VECTOR.timestamp + 301) * 1000, resolveSecretKey: () => undefined })),
    ).toMatchObject({
      code: 'AuthFailure.SignatureExpire',
    });
    expect(verifyTc3Request(vectorRequest({ nowMs: (VECTOR.timestamp - 301) * 1000 }))).toMatchObject({
      code: 'AuthFailure.SignatureExpire',
    });
    expect(verifyTc3Request(vectorRequest({ nowMs: (VECTOR.timestamp + 300) * 1000 })).ok).toBe(true);
    expect(verifyTc3Request(vectorRequest({}, { 'x-tc-timestamp': 'soon' }))).toMatchObject({
      code: 'AuthFailure.SignatureExpire',
    });
    // Credential date must be the timestamp's UTC date.
    const otherDate = signedVector.authorization.replace('2019-02-25', '2019-02-26');
    expect(verifyTc3Request(vectorRequest({}, { authorization: otherDate }))).toMatchObject({
      code: 'AuthFailure.SignatureFailure',
    });
    // Unknown SecretId before the signature.
    expect(verifyTc3Request(vectorRequest({ resolveSecretKey: () => undefined }))).toMatchObject({
      code: 'AuthFailure.SecretIdNotFound',
    });
  });

  it('parses only well-formed Authorization headers', () => {
    expect(parseAuthorization(signedVector.authorization)).toEqual({
      secretId: VECTOR.secretId,
      date: '2019-02-25',
      service: 'cvm',
      signedHeaders: ['content-type', 'host'],
      signature: VECTOR.signature,
    });
    const bad = [
      undefined,
      '',
      signedVector.authorization.replace('TC3-HMAC-SHA256', 'HMAC-SHA256'),
      signedVector.authorization.replace('/tc3_request', '/tc2_request'),
      signedVector.authorization.replace('SignedHeaders=content-type;host', 'SignedHeaders=host'),
      signedVector.authorization.replace(VECTOR.signature, 'abc'),
      signedVector.authorization.replace(', Signature', ', Sig'),
      `${signedVector.authorization}, Extra=1`,
      signedVector.authorization.replace(`${VECTOR.secretId}/`, ''),
    ];
    for (const header of bad) expect(parseAuthorization(header)).toBeNull();
  });
});
