/**
 * The error table (src/tcss/errorTable.ts) and how the client maps what the SDK / node-fetch throw onto
 * it (toTcssError in src/tcss/client.ts): first with errors shaped as the SDK makes them, then through
 * the real client against tiny local servers (a Tencent error answer, a 502, a hang, a closed port).
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import TencentCloudSDKHttpException from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/exception/tencent_cloud_sdk_exception';
import { loadConfig } from '../src/config';
import {
  KNOWN_CODES,
  PAUSE_ADVICE,
  actionFor,
  isThrottle,
  pauseAdviceFor,
  ruleFor,
  scopeFor,
  type ErrorAction,
  type ErrorScope,
  type PauseFix,
} from '../src/tcss/errorTable';
import { IDLE_SOCKET_MS, TcssApiError, createTcssClient, toTcssError } from '../src/tcss/client';

const TABLE: Record<ErrorAction, string[]> = {
  throttle: [
    'RequestLimitExceeded',
    'RequestLimitExceeded.UinLimitExceeded',
    'RequestLimitExceeded.IPLimitExceeded',
    'RequestLimitExceeded.GlobalRegionUinLimitExceeded',
  ],
  retry: ['InternalError', 'ServiceUnavailable', 'NetworkError', 'Timeout', 'HttpError'],
  pause: [
    'AuthFailure',
    'AuthFailure.SignatureFailure',
    'AuthFailure.SecretIdNotFound',
    'AuthFailure.SignatureExpire',
    'AuthFailure.InvalidAuthorization',
    'UnauthorizedOperation',
    // Issue 8.4: codes that would fail every job pause the workers instead.
    'InvalidAction',
    'NoSuchVersion',
    'NoSuchProduct',
    'ActionOffline',
    'UnsupportedRegion',
    'UnsupportedProtocol',
    'InternalError.ErrRoleNotExist',
    'OperationDenied',
    'OperationDenied.ServiceNotBought',
    'FailedOperation.AuthorizedNotEnough',
  ],
  fail: [
    'InvalidParameter',
    'InvalidParameter.MissingParameter',
    'InvalidParameterValue',
    'MissingParameter',
    'UnknownParameter',
    'ResourceNotFound',
    'FailedOperation.AgentOffline',
  ],
};

/** Whom each code is about (issue 8.3/8.4): job-scoped refusals of a merged call are bisected. */
const SCOPES: Record<ErrorScope, string[]> = {
  job: [
    'InvalidParameterValue',
    'InvalidParameterValue.DataNotFound',
    'InvalidParameterValue.Anything',
    'ResourceNotFound',
    'ResourceNotFound.AssetNotFound',
    'InvalidParameter',
    'InvalidParameter.InvalidFormat',
    'FailedOperation.AgentOffline',
  ],
  call: [
    'InvalidParameter.MissingParameter',
    'MissingParameter',
    'UnknownParameter',
    'InternalError',
    'RequestLimitExceeded',
    'Timeout',
    'NetworkError',
    'FailedOperation',
    'SomethingNew',
  ],
  account: [
    'AuthFailure.SecretIdNotFound',
    'InvalidAction',
    'NoSuchVersion',
    'NoSuchProduct',
    'ActionOffline',
    'UnsupportedRegion',
    'UnsupportedProtocol',
    'InternalError.ErrRoleNotExist',
    'OperationDenied',
    'FailedOperation.AuthorizedNotEnough',
  ],
};

describe('scopeFor', () => {
  for (const [scope, codes] of Object.entries(SCOPES) as [ErrorScope, string[]][]) {
    test.each(codes)(`%s -> ${scope}`, (code) => expect(scopeFor(code)).toBe(scope));
  }

  test('every account-scoped code pauses, every job-scoped code fails (never pauses or retries)', () => {
    for (const code of KNOWN_CODES) {
      const r = ruleFor(code);
      if (r.scope === 'account') expect([code, r.action]).toEqual([code, 'pause']);
      if (r.scope === 'job') expect([code, r.action]).toEqual([code, 'fail']);
    }
  });

  test('every exact code cites where its meaning comes from and says what it means', () => {
    for (const code of KNOWN_CODES) {
      const r = ruleFor(code);
      expect(['common', 'tcss', 'ours']).toContain(r.src);
      expect(r.meaning.length).toBeGreaterThan(5);
    }
    // Codes that are not Tencent's are exactly our client's names for faults below the API.
    expect(KNOWN_CODES.filter((c) => ruleFor(c).src === 'ours').sort()).toEqual([
      'HttpError',
      'NetworkError',
      'Timeout',
      'UnexpectedAnswer',
    ]);
  });

  test('inherited names (toString, __proto__) are unknown codes, not table entries', () => {
    expect(ruleFor('toString').action).toBe('retry');
    expect(ruleFor('__proto__').action).toBe('retry');
  });
});

describe('actionFor', () => {
  for (const [action, codes] of Object.entries(TABLE) as [ErrorAction, string[]][]) {
    test.each(codes)(`%s -> ${action}`, (code) => {
      expect(actionFor(code)).toBe(action);
    });
  }

  test.each(['SomethingNew', 'Brand.New.Code', '', 'requestlimitexceeded', 'InternalErrorX'])(
    'unknown code %j -> retry',
    (code) => {
      expect(actionFor(code)).toBe('retry');
    },
  );

  test('a family prefix only matches at a dot boundary', () => {
    expect(actionFor('AuthFailureX')).toBe('retry');
    expect(actionFor('RequestLimitExceededX')).toBe('retry');
  });

  test('every exact code in the table has one of the four actions', () => {
    expect(KNOWN_CODES.length).toBeGreaterThan(20);
    for (const code of KNOWN_CODES) expect(['throttle', 'retry', 'pause', 'fail']).toContain(actionFor(code));
  });
});

/** What the operator has to fix, per pause code: the advice a pausing worker logs. */
const FIXES: Record<PauseFix, string[]> = {
  clock: ['AuthFailure.SignatureExpire'],
  credentials: [
    'AuthFailure',
    'AuthFailure.SignatureFailure',
    'AuthFailure.SecretIdNotFound',
    'AuthFailure.TokenFailure',
    'UnauthorizedOperation',
    'UnauthorizedOperation.Anything',
    'IpInBlacklist',
    'IpNotInWhitelist',
  ],
  configuration: [
    'InvalidAction',
    'NoSuchVersion',
    'NoSuchProduct',
    'ActionOffline',
    'UnsupportedRegion',
    'UnsupportedProtocol',
  ],
  account: [
    'OperationDenied',
    'OperationDenied.ServiceNotBought',
    'InternalError.ErrRoleNotExist',
    'FailedOperation.AuthorizedNotEnough',
  ],
};

describe('pauseAdviceFor', () => {
  for (const [fix, codes] of Object.entries(FIXES) as [PauseFix, string[]][]) {
    test.each(codes)(`%s -> ${fix}`, (code) => {
      expect(actionFor(code)).toBe('pause');
      expect(ruleFor(code).fix).toBe(fix);
      expect(pauseAdviceFor(code)).toBe(PAUSE_ADVICE[fix]);
    });
  }

  test('the advice names what to fix', () => {
    expect(PAUSE_ADVICE.clock).toMatch(/^CLOCK OFF: .*NTP/);
    expect(PAUSE_ADVICE.credentials).toMatch(/^CREDENTIALS REFUSED .*TENCENTCLOUD_SECRET_ID/);
    expect(PAUSE_ADVICE.configuration).toMatch(/^CONFIGURATION REFUSED .*TCSS_ENDPOINT and TCSS_REGION/);
    expect(PAUSE_ADVICE.account).toMatch(/^ACCOUNT REFUSED .*TCSS console/);
  });

  test('every pause code says what to fix, and no other code does', () => {
    for (const code of KNOWN_CODES) {
      const r = ruleFor(code);
      expect([code, r.fix !== undefined]).toEqual([code, r.action === 'pause']);
    }
  });
});

describe('isThrottle', () => {
  test.each(TABLE.throttle)('%s is a throttle', (code) => expect(isThrottle(code)).toBe(true));
  test.each([
    'OK',
    'RequestLimitExceededX',
    'RequestSizeLimitExceeded',
    'LimitExceeded',
    'InternalError',
    'AuthFailure',
  ])('%s is not', (code) => {
    expect(isThrottle(code)).toBe(false);
  });
});

/** An error as the SDK's parseResponse makes it for `{"Response":{"Error":{...},"RequestId":...}}`. */
function sdkError(code: string, message: string, requestId: string): TencentCloudSDKHttpException {
  const e = new TencentCloudSDKHttpException(message, requestId, 'trace-1');
  (e as unknown as { code: string }).code = code;
  return e;
}

describe('toTcssError', () => {
  test('an SDK error with a Tencent code keeps code, message and RequestId', () => {
    const e = toTcssError(sdkError('RequestLimitExceeded.UinLimitExceeded', 'too many requests', 'req-42'), 12);
    expect(e).toBeInstanceOf(TcssApiError);
    expect(e.name).toBe('TcssApiError');
    expect(e.code).toBe('RequestLimitExceeded.UinLimitExceeded');
    expect(e.action).toBe('throttle');
    expect(e.requestId).toBe('req-42');
    expect(e.message).toBe('RequestLimitExceeded.UinLimitExceeded: too many requests');
    expect(e.latencyMs).toBe(12);
    expect(e.httpStatus).toBeUndefined();

    const auth = toTcssError(sdkError('AuthFailure.SignatureFailure', 'bad signature', 'req-43'), 1);
    expect([auth.code, auth.action, auth.requestId]).toEqual(['AuthFailure.SignatureFailure', 'pause', 'req-43']);
    const bad = toTcssError(sdkError('InvalidParameterValue', 'no such item', ''), 1);
    expect([bad.code, bad.action, bad.requestId]).toEqual(['InvalidParameterValue', 'fail', undefined]);
  });

  test('an SDK error for an HTTP status (httpCode 502) -> HttpError, retry, with the status', () => {
    const raw = new TencentCloudSDKHttpException('Bad Gateway', '', 'trace-2');
    (raw as unknown as { httpCode: number }).httpCode = 502;
    const e = toTcssError(raw, 5);
    expect(e.code).toBe('HttpError');
    expect(e.action).toBe('retry');
    expect(e.httpStatus).toBe(502);
    expect(e.message).toContain('502');
    expect(e.message).toContain('Bad Gateway');
  });

  test('a node-fetch timeout -> Timeout, retry', () => {
    const raw = Object.assign(new Error('network timeout at: https://tcss.intl.tencentcloudapi.com/'), {
      name: 'FetchError',
      type: 'request-timeout',
    });
    const e = toTcssError(raw, 10_000);
    expect(e.code).toBe('Timeout');
    expect(e.action).toBe('retry');
    expect(e.message).toContain('network timeout');
    expect(toTcssError(Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' }), 1).code).toBe(
      'Timeout',
    );
  });

  test.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND'])(
    'a node-fetch system error (%s) -> NetworkError, retry',
    (code) => {
      const raw = Object.assign(
        new Error(`request to http://127.0.0.1:1/ failed, reason: connect ${code} 127.0.0.1:1`),
        {
          name: 'FetchError',
          type: 'system',
          code,
          errno: code,
        },
      );
      const e = toTcssError(raw, 3);
      expect(e.code).toBe('NetworkError');
      expect(e.action).toBe('retry');
      expect(e.message).toContain(code);
    },
  );

  test('anything else -> NetworkError; a TcssApiError passes through unchanged', () => {
    expect(toTcssError(new Error('socket hang up'), 1).code).toBe('NetworkError');
    expect(toTcssError('a string', 1).message).toBe('NetworkError: a string');
    expect(toTcssError(undefined, 1).code).toBe('NetworkError');
    const original = new TcssApiError('InternalError', 'x', 'r', 1);
    expect(toTcssError(original, 99)).toBe(original);
  });
});

/** The real client (demo credentials, 300 ms timeout unless told) against whatever listens on `port`. */
function clientFor(port: number, timeoutMs = 300) {
  return createTcssClient(
    loadConfig({ TCSS_ENDPOINT: `http://127.0.0.1:${port}`, TCSS_TIMEOUT_MS: String(timeoutMs) }).tcss,
  );
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function scanError(port: number): Promise<TcssApiError> {
  const client = clientFor(port);
  try {
    await client.scan({ policyItemId: 2798, assetIds: [2202462] });
  } catch (err) {
    expect(err).toBeInstanceOf(TcssApiError);
    return err as TcssApiError;
  } finally {
    client.close();
  }
  throw new Error('expected the scan to fail');
}

describe('the real client maps what actually comes back', () => {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();

  function track<S extends net.Server>(server: S): S {
    servers.push(server);
    server.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    return server;
  }

  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  test('a Tencent error answer -> its code, RequestId and action', async () => {
    const port = await listen(
      track(
        http.createServer((_req, res) => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(
            JSON.stringify({
              Response: { Error: { Code: 'RequestLimitExceeded', Message: 'slow down' }, RequestId: 'req-real-1' },
            }),
          );
        }),
      ),
    );
    const e = await scanError(port);
    expect([e.code, e.action, e.requestId]).toEqual(['RequestLimitExceeded', 'throttle', 'req-real-1']);
  });

  test('HTTP 502 -> HttpError with the status', async () => {
    const port = await listen(
      track(
        http.createServer((_req, res) => {
          res.writeHead(502, 'Bad Gateway');
          res.end('bad gateway');
        }),
      ),
    );
    const e = await scanError(port);
    expect([e.code, e.action, e.httpStatus]).toEqual(['HttpError', 'retry', 502]);
  });

  test('no answer within TCSS_TIMEOUT_MS -> Timeout', async () => {
    const port = await listen(track(net.createServer(() => undefined)));
    const started = Date.now();
    const e = await scanError(port);
    expect([e.code, e.action]).toEqual(['Timeout', 'retry']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('connection refused -> NetworkError', async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise((r) => probe.close(r));
    const e = await scanError(port);
    expect(e.action).toBe('retry');
    expect(e.code).toBe('NetworkError');
  });

  /** A server that answers every call with `body` (raw text, so numbers are exactly as written). */
  async function answering(body: string, delayMs = 0): Promise<{ port: number; connections: () => number }> {
    let connections = 0;
    const server = track(
      http.createServer((req, res) => {
        req.resume();
        req.on('end', () =>
          setTimeout(() => {
            res.writeHead(200, { 'Content-Type': 'application/json' });
            res.end(body);
          }, delayMs),
        );
      }),
    );
    server.keepAliveTimeout = 30_000; // longer than our idle limit, so only our side closes idle sockets
    server.on('connection', () => connections++);
    return { port: await listen(server), connections: () => connections };
  }

  test.each([
    ['9007199254740993', '9007199254740993'], // 2^53 + 1: JSON.parse would make it 9007199254740992
    ['123456789012345678901234567890', '123456789012345678901234567890'],
    ['9007199254740991', 9007199254740991], // 2^53 - 1: still a number
    ['1202', 1202],
  ])('TaskId %s is read exactly (never rounded, never refused and retried)', async (raw, expected) => {
    const { port } = await answering(`{"Response":{"TaskId":${raw},"RequestId":"req-big"}}`);
    const client = clientFor(port);
    try {
      const ok = await client.scan({ policyItemId: 2798, assetIds: [2202462] });
      expect(ok.taskId).toBe(expected);
      expect(ok.requestId).toBe('req-big');
    } finally {
      client.close();
    }
  });

  test.each(['', ',"TaskId":1.5', ',"TaskId":-3', ',"TaskId":"abc"', ',"TaskId":1e3'])(
    'a success answer without a readable TaskId (%s) fails the job (UnexpectedAnswer), never retried: a task may exist',
    async (taskField) => {
      const { port } = await answering(`{"Response":{"RequestId":"req-odd"${taskField}}}`);
      const e = await scanError(port);
      expect([e.code, e.action, e.requestId]).toEqual(['UnexpectedAnswer', 'fail', 'req-odd']);
    },
  );

  test('an error answer with big numbers in it keeps its code and RequestId', async () => {
    const { port } = await answering(
      '{"Response":{"Error":{"Code":"InvalidParameterValue","Message":"asset 9007199254740993 does not exist"},"RequestId":"req-e"}}',
    );
    const e = await scanError(port);
    expect([e.code, e.action, e.scope, e.requestId]).toEqual(['InvalidParameterValue', 'fail', 'job', 'req-e']);
    expect(e.message).toContain('9007199254740993');
  });

  test(`a keep-alive socket idle longer than ${IDLE_SOCKET_MS} ms is not reused; a call slower than that still completes`, async () => {
    const { port, connections } = await answering('{"Response":{"TaskId":1,"RequestId":"r"}}');
    const client = clientFor(port, 10_000);
    try {
      await client.scan({ policyItemId: 1, assetIds: [1] });
      await client.scan({ policyItemId: 1, assetIds: [2] });
      expect(connections()).toBe(1); // reused while fresh
      await new Promise((r) => setTimeout(r, IDLE_SOCKET_MS + 500));
      await client.scan({ policyItemId: 1, assetIds: [3] });
      expect(connections()).toBe(2); // the idle one was closed by us, not reused
    } finally {
      client.close();
    }
    const slow = await answering('{"Response":{"TaskId":2,"RequestId":"r2"}}', IDLE_SOCKET_MS + 500);
    const slowClient = clientFor(slow.port, 10_000);
    try {
      expect((await slowClient.scan({ policyItemId: 1, assetIds: [1] })).taskId).toBe(2);
    } finally {
      slowClient.close();
    }
  }, 20_000);
});
