import http from 'node:http';
import type { LookupFunction } from 'node:net';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';
import Sign from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign';
import {
  DEMO_SECRET_ID,
  DEMO_SECRET_KEY,
  maxInWindow,
  resolveSimulatorOptions,
  SCAN_ACTION,
  SlidingWindow,
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../src/simulator';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface TencentResponse {
  Response: { TaskId?: number; RequestId: string; Error?: { Code: string; Message: string } };
}

interface CallOptions {
  secretId?: string;
  secretKey?: string;
  timestamp?: number;
  service?: string;
  action?: string;
  version?: string;
  signal?: AbortSignal;
}

/** Signs with the official SDK's Sign.sign3 (as CommonClient does) and posts with Node's fetch. */
async function call(sim: Simulator, body: unknown, o: CallOptions = {}): Promise<TencentResponse> {
  const payload = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  const timestamp = o.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  const authorization = Sign.sign3({
    method: 'POST',
    url: `${sim.url}/`,
    payload,
    timestamp,
    service: o.service ?? 'tcss',
    secretId: o.secretId ?? DEMO_SECRET_ID,
    secretKey: o.secretKey ?? DEMO_SECRET_KEY,
    multipart: false,
    boundary: '',
    headers,
  });
  const res = await fetch(`${sim.url}/`, {
    method: 'POST',
    headers: {
      ...headers,
      'X-TC-Action': o.action ?? SCAN_ACTION,
      'X-TC-Version': o.version ?? '2020-11-01',
      'X-TC-Timestamp': String(timestamp),
      Authorization: authorization,
    },
    body: payload,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as TencentResponse;
}

const scan = (policyItemId: number | string = 10001, assetIds: unknown = [111, 456, 789]) => ({
  CustomerPolicyItemId: policyItemId,
  CustomerAssetIdSet: assetIds,
});

/** The control token header `/_sim/*` requires. */
const control = (sim: Simulator): Record<string, string> => ({ Authorization: `Bearer ${sim.controlToken}` });

const codeOf = (r: TencentResponse): string => r.Response.Error?.Code ?? 'OK';

let sims: Simulator[] = [];
async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await startSimulator(options);
  sims.push(sim);
  return sim;
}
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});

describe('simulator: success', () => {
  it('answers with fresh sequential TaskIds in the documented shape', async () => {
    const sim = await start();
    expect(sim.url).toBe(`http://127.0.0.1:${sim.port}`);
    const first = await call(sim, scan());
    const second = await call(sim, {
      CustomerPolicyItemId: 2798,
      CustomerAssetIdSet: [2202462],
      AssetType: 'ASSET_CONTAINER',
    });
    expect(first).toEqual({ Response: { TaskId: 1001, RequestId: expect.stringMatching(UUID) } });
    expect(second.Response.TaskId).toBe(1002);
    expect(second.Response.RequestId).not.toBe(first.Response.RequestId);

    const calls = sim.calls();
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({
      seq: 1,
      secretId: DEMO_SECRET_ID,
      action: SCAN_ACTION,
      policyItemId: 10001,
      assetIds: [111, 456, 789],
      code: 'OK',
      taskId: 1001,
      requestId: first.Response.RequestId,
      admitted: true,
      hung: false,
    });
    expect(calls[1]).toMatchObject({ seq: 2, policyItemId: 2798, assetType: 'ASSET_CONTAINER', taskId: 1002 });
    expect(sim.stats()).toMatchObject({ total: 2, accepted: 2, throttled: 0, byCode: { OK: 2 } });
  });

  it('starts TaskIds at firstTaskId and keeps them unique across reset()', async () => {
    const sim = await start({ firstTaskId: 2540 });
    expect((await call(sim, scan())).Response.TaskId).toBe(2540);
    sim.reset();
    expect(sim.calls()).toEqual([]);
    expect((await call(sim, scan())).Response.TaskId).toBe(2541);
  });

  it('works with the official CommonClient when the endpoint names the tcss service', async () => {
    const sim = await start({ allowedHosts: ['tcss.intl.tencentcloudapi.com'] });
    // Resolve the real host name to the simulator, so the SDK derives service `tcss` and signs
    // `host:tcss.intl.tencentcloudapi.com` while the Host header carries the port.
    const lookup: LookupFunction = (_host, options, cb) => {
      if (options.all)
        (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [
          { address: '127.0.0.1', family: 4 },
        ]);
      else cb(null, '127.0.0.1', 4);
    };
    const agent = new http.Agent({ lookup });
    try {
      const client = new CommonClient('tcss.intl.tencentcloudapi.com', '2020-11-01', {
        credential: { secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY },
        profile: {
          httpProfile: {
            endpoint: `tcss.intl.tencentcloudapi.com:${sim.port}`,
            protocol: 'http://',
            reqTimeout: 5,
            agent,
          },
        },
      });
      const res = (await client.request(SCAN_ACTION, scan(2798, [2202462]))) as { TaskId: number; RequestId: string };
      expect(res).toEqual({ TaskId: 1001, RequestId: expect.stringMatching(UUID) });
    } finally {
      agent.destroy();
    }
  });
});

describe('simulator: authentication, in the gateway order', () => {
  it('refuses CommonClient pointed at 127.0.0.1:PORT: it signs with service `127`', async () => {
    const sim = await start();
    const agent = new http.Agent(); // keeps the SDK away from any http_proxy in the environment
    try {
      const client = new CommonClient(`127.0.0.1:${sim.port}`, '2020-11-01', {
        credential: { secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY },
        profile: { httpProfile: { protocol: 'http://', reqTimeout: 5, agent } },
      });
      await expect(client.request(SCAN_ACTION, scan())).rejects.toMatchObject({
        code: 'AuthFailure.InvalidAuthorization',
        requestId: expect.stringMatching(UUID),
      });
    } finally {
      agent.destroy();
    }
    expect(sim.calls()[0]).toMatchObject({ code: 'AuthFailure.InvalidAuthorization', admitted: false });
  });

  it('answers each AuthFailure variant', async () => {
    const sim = await start({
      credentials: [
        { secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY },
        { secretId: 'AKIDrevoked', secretKey: 'revokedKey' },
      ],
      revokedSecretIds: ['AKIDrevoked'],
    });
    const now = Math.floor(Date.now() / 1000);
    expect(codeOf(await call(sim, scan(), { secretKey: 'not-the-key' }))).toBe('AuthFailure.SignatureFailure');
    expect(codeOf(await call(sim, scan(), { secretId: 'AKIDunknown' }))).toBe('AuthFailure.SecretIdNotFound');
    expect(codeOf(await call(sim, scan(), { secretId: 'AKIDrevoked', secretKey: 'revokedKey' }))).toBe(
      'AuthFailure.SecretIdNotFound',
    );
    expect(codeOf(await call(sim, scan(), { timestamp: now - 400 }))).toBe('AuthFailure.SignatureExpire');
    expect(codeOf(await call(sim, scan(), { timestamp: now + 400 }))).toBe('AuthFailure.SignatureExpire');
    expect(codeOf(await call(sim, scan(), { timestamp: now - 200 }))).toBe('OK');
    expect(codeOf(await call(sim, scan(), { service: 'cvm' }))).toBe('AuthFailure.InvalidAuthorization');
    // Service is checked before the timestamp, the timestamp before the SecretId.
    expect(codeOf(await call(sim, scan(), { service: 'cvm', timestamp: now - 400 }))).toBe(
      'AuthFailure.InvalidAuthorization',
    );
    expect(codeOf(await call(sim, scan(), { secretId: 'AKIDunknown', timestamp: now - 400 }))).toBe(
      'AuthFailure.SignatureExpire',
    );

    const res = await fetch(`${sim.url}/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(((await res.json()) as TencentResponse).Response.Error?.Code).toBe('AuthFailure.InvalidAuthorization');

    // A client clock that is off: the server's clock is shifted instead.
    sim.setFaults({ clockOffsetMs: 10 * 60_000, revokedSecretIds: [] });
    expect(codeOf(await call(sim, scan()))).toBe('AuthFailure.SignatureExpire');
    sim.setFaults({ clockOffsetMs: 0 });
    expect(codeOf(await call(sim, scan(), { secretId: 'AKIDrevoked', secretKey: 'revokedKey' }))).toBe('OK');
  });

  it('checks action and version after the signature', async () => {
    const sim = await start();
    const action = await call(sim, scan(), { action: 'DescribeAssetSummary' });
    expect(action.Response.Error).toEqual({
      Code: 'InvalidAction',
      Message: expect.stringContaining('DescribeAssetSummary'),
    });
    expect(codeOf(await call(sim, scan(), { version: '2018-03-17' }))).toBe('NoSuchVersion');
    expect(codeOf(await call(sim, scan(), { action: 'DescribeAssetSummary', secretKey: 'bad' }))).toBe(
      'AuthFailure.SignatureFailure',
    );
  });
});

describe('simulator: parameters', () => {
  it.each([
    ['[]', 'InvalidParameter'],
    ['{"CustomerPolicyItemId":', 'InvalidParameter'],
    ['{}', 'InvalidParameter.MissingParameter'],
    ['{"CustomerAssetIdSet":[1]}', 'InvalidParameter.MissingParameter'],
    ['{"CustomerPolicyItemId":1}', 'InvalidParameter.MissingParameter'],
    ['{"CustomerPolicyItemId":"1","CustomerAssetIdSet":[1]}', 'InvalidParameter'],
    ['{"CustomerPolicyItemId":0,"CustomerAssetIdSet":[1]}', 'InvalidParameter'],
    ['{"CustomerPolicyItemId":-5,"CustomerAssetIdSet":[1]}', 'InvalidParameter'],
    ['{"CustomerPolicyItemId":1.5,"CustomerAssetIdSet":[1]}', 'InvalidParameter'],
    ['{"CustomerPolicyItemId":1.0,"CustomerAssetIdSet":[1]}', 'InvalidParameter'],
    ['{"CustomerPolicyItemId":1e3,"CustomerAssetIdSet":[1]}', 'InvalidParameter'],
    ['{"CustomerPolicyItemId":null,"CustomerAssetIdSet":[1]}', 'InvalidParameter'],
    ['{"CustomerPolicyItemId":1,"CustomerAssetIdSet":[]}', 'InvalidParameter'],
    ['{"CustomerPolicyItemId":1,"CustomerAssetIdSet":7}', 'InvalidParameter'],
    ['{"CustomerPolicyItemId":1,"CustomerAssetIdSet":[1,"2"]}', 'InvalidParameter'],
    ['{"CustomerPolicyItemId":1,"CustomerAssetIdSet":[1],"AssetType":"ASSET_VM"}', 'InvalidParameter'],
    ['{"CustomerPolicyItemId":1,"CustomerAssetIdSet":[1],"Region":"ap-guangzhou"}', 'UnknownParameter'],
    ['{"CustomerPolicyItemId":1,"CustomerAssetIdSet":[1],"__proto__":{}}', 'UnknownParameter'],
    ['{"CustomerPolicyItemId":1,"CustomerAssetIdSet":[1],"AssetType":"ASSET_CONTAINERD_CONTAINER"}', 'OK'],
  ])('%s -> %s', async (body, code) => {
    const sim = await start();
    const res = await call(sim, body);
    expect(codeOf(res)).toBe(code);
    if (code !== 'OK') expect(res.Response.Error?.Message).toEqual(expect.any(String));
  });

  it('rejects integers beyond 2^53 instead of rounding them', async () => {
    const sim = await start();
    const big = '9007199254740993';
    const item = await call(sim, `{"CustomerPolicyItemId":${big},"CustomerAssetIdSet":[1]}`);
    expect(item.Response.Error).toEqual({ Code: 'InvalidParameter', Message: expect.stringContaining(big) });
    expect(codeOf(await call(sim, `{"CustomerPolicyItemId":1,"CustomerAssetIdSet":[1,${big}]}`))).toBe(
      'InvalidParameter',
    );
    expect(codeOf(await call(sim, `{"CustomerPolicyItemId":9007199254740992,"CustomerAssetIdSet":[1]}`))).toBe(
      'InvalidParameter',
    );
    const max = await call(sim, `{"CustomerPolicyItemId":9007199254740991,"CustomerAssetIdSet":[9007199254740991]}`);
    expect(codeOf(max)).toBe('OK');
    expect(sim.calls().at(-1)).toMatchObject({
      policyItemId: Number.MAX_SAFE_INTEGER,
      assetIds: [Number.MAX_SAFE_INTEGER],
    });
  });

  it('refuses bodies over the size limit, non-POST methods and other paths', async () => {
    const sim = await start({ maxBodyBytes: 200 });
    const bigBody = scan(
      1,
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    expect(codeOf(await call(sim, bigBody))).toBe('RequestSizeLimitExceeded');
    const get = await fetch(`${sim.url}/`);
    expect(get.status).toBe(200);
    expect(((await get.json()) as TencentResponse).Response.Error?.Code).toBe('UnsupportedProtocol');
    expect((await fetch(`${sim.url}/elsewhere`, { method: 'POST' })).status).toBe(404);
  });
});

describe('simulator: rate limit', () => {
  it('admits exactly 20 of 30 requests fired at once, refusing the rest with the real message', async () => {
    const sim = await start();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => call(sim, scan(i + 1))));
    const codes = results.map(codeOf);
    expect(codes.filter((c) => c === 'OK')).toHaveLength(20);
    expect(codes.filter((c) => c === 'RequestLimitExceeded')).toHaveLength(10);
    const refused = results.find((r) => codeOf(r) === 'RequestLimitExceeded');
    expect(refused?.Response.Error?.Message).toBe(
      'Your current request times equals to `21` in a second, which exceeds the frequency limit `20` for a second. ' +
        'Please reduce the frequency of calls.',
    );
    const taskIds = results.flatMap((r) => (r.Response.TaskId !== undefined ? [r.Response.TaskId] : []));
    expect(new Set(taskIds).size).toBe(20);
    expect(sim.stats()).toMatchObject({ total: 30, accepted: 20, throttled: 10, admitted: 20, maxInAnyWindow: 20 });
  });

  it('counts per SecretId', async () => {
    const sim = await start({
      rateLimit: 2,
      credentials: [
        { secretId: 'AKIDa', secretKey: 'ka' },
        { secretId: 'AKIDb', secretKey: 'kb' },
      ],
    });
    const a = { secretId: 'AKIDa', secretKey: 'ka' };
    const b = { secretId: 'AKIDb', secretKey: 'kb' };
    const codes = await Promise.all([
      call(sim, scan(), a),
      call(sim, scan(), a),
      call(sim, scan(), a),
      call(sim, scan(), b),
    ]);
    expect(codes.map(codeOf).sort()).toEqual(['OK', 'OK', 'OK', 'RequestLimitExceeded']);
    expect(sim.stats().bySecretId).toMatchObject({ AKIDa: { admitted: 2 }, AKIDb: { admitted: 1 } });
  });

  it('backgroundRps spends the same budget', async () => {
    const sim = await start({ backgroundRps: 15 });
    await new Promise((r) => setTimeout(r, 1050));
    const results = await Promise.all(Array.from({ length: 30 }, () => call(sim, scan())));
    const accepted = results.filter((r) => codeOf(r) === 'OK').length;
    // About 15 background arrivals sit in the window, leaving about 5.
    expect(accepted).toBeGreaterThanOrEqual(3);
    expect(accepted).toBeLessThanOrEqual(8);
    const stats = sim.stats();
    expect(stats.background.arrivals).toBeGreaterThanOrEqual(14);
    expect(stats.maxInAnyWindowWithBackground).toBeLessThanOrEqual(20);
    expect(stats.maxInAnyWindowWithBackground).toBeGreaterThanOrEqual(19);
    expect(sim.calls()).toHaveLength(30); // background arrivals are not calls
  });

  it('backgroundRps at the full rate, switched on at run time, takes the whole budget', async () => {
    // Lenient on purpose: counted, our refused calls would take slots from the other consumer.
    const sim = await start({ countThrottled: false });
    expect(codeOf(await call(sim, scan()))).toBe('OK');
    sim.setFaults({ backgroundRps: 20 });
    sim.reset(); // a clean window, so the other consumer is admitted every time
    await new Promise((r) => setTimeout(r, 1100));
    const starved = await Promise.all(Array.from({ length: 5 }, () => call(sim, scan())));
    expect(starved.map(codeOf)).toEqual(Array(5).fill('RequestLimitExceeded'));
    expect(sim.stats().background).toMatchObject({ throttled: 0 });
    sim.setFaults({ backgroundRps: 0 });
  });
});

describe('simulator: arrival jitter', () => {
  it('delays each arrival by a random 0 to arrivalJitterMs: sent together, counted spread out, each within the bound', async () => {
    const sim = await start({ arrivalJitterMs: 300 });
    const sentAt = performance.timeOrigin + performance.now();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => call(sim, scan(i + 1))));
    const doneAt = performance.timeOrigin + performance.now();
    expect(results.map(codeOf)).toEqual(Array(12).fill('OK'));
    const arrivals = sim
      .calls()
      .map((c) => c.arrivalMs)
      .sort((a, b) => a - b);
    // 12 uniform draws from 0..300 ms span less than 100 ms with probability below 1e-3.
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(100);
    // An arrival is the planned time (received + jitter); Node's timers fire on whole milliseconds, so
    // the answer may come up to 1 ms before a fractional planned arrival.
    for (const a of arrivals) {
      expect(a).toBeGreaterThanOrEqual(sentAt);
      expect(a).toBeLessThanOrEqual(doneAt + 1);
    }
  });

  it('is a fault: set at run time, validated with its name', async () => {
    const sim = await start();
    sim.setFaults({ arrivalJitterMs: 50 });
    expect(sim.faults().arrivalJitterMs).toBe(50);
    expect(() => sim.setFaults({ arrivalJitterMs: -1 })).toThrow('arrivalJitterMs');
  });
});

describe('simulator: faults', () => {
  it('forcedErrors answers a permanent error for one policy item, after auth and the rate limit', async () => {
    const sim = await start({ forcedErrors: { '404': 'ResourceNotFound' } });
    expect(codeOf(await call(sim, scan(404)))).toBe('ResourceNotFound');
    expect(codeOf(await call(sim, scan(405)))).toBe('OK');
    expect(codeOf(await call(sim, scan(404), { secretKey: 'bad' }))).toBe('AuthFailure.SignatureFailure');
    expect(sim.calls()[0]).toMatchObject({ policyItemId: 404, code: 'ResourceNotFound', admitted: true });
    expect(sim.calls()[0]?.taskId).toBeUndefined();
  });

  it('errorRate 1 answers InternalError; setFaults turns it off', async () => {
    const sim = await start({ errorRate: 1 });
    const res = await call(sim, scan());
    expect(res.Response.Error?.Code).toBe('InternalError');
    expect(res.Response.RequestId).toMatch(UUID);
    sim.setFaults({ errorRate: 1, errorCode: 'FailedOperation' });
    expect(codeOf(await call(sim, scan()))).toBe('FailedOperation');
    sim.setFaults({ errorRate: 0 });
    expect(codeOf(await call(sim, scan()))).toBe('OK');
  });

  it('latencyMs delays the answer', async () => {
    const sim = await start({ latencyMs: 200 });
    const t0 = performance.now();
    expect(codeOf(await call(sim, scan()))).toBe('OK');
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(3000);
  });

  it('hangRate 1 never answers; the client times out and close() still returns promptly', async () => {
    const sim = await start({ hangRate: 1 });
    await expect(call(sim, scan(), { signal: AbortSignal.timeout(300) })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    // A second one stays open on the server while we close.
    const pending = call(sim, scan()).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    expect(sim.calls()).toHaveLength(2);
    expect(sim.calls()[0]).toMatchObject({ code: 'OK', hung: true, taskId: 1001 });
    const t0 = performance.now();
    await sim.close();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await pending).toHaveProperty('name', 'TypeError'); // fetch failed: the socket was destroyed
  });

  it('unreachable destroys the socket; the admin endpoints still answer', async () => {
    const sim = await start({ unreachable: true });
    await expect(call(sim, scan())).rejects.toThrow();
    const stats = (await (await fetch(`${sim.url}/_sim/stats`, { headers: control(sim) })).json()) as {
      dropped: number;
      total: number;
    };
    expect(stats).toMatchObject({ dropped: 1, total: 0 });
    sim.setFaults({ unreachable: false });
    expect(codeOf(await call(sim, scan()))).toBe('OK');
  });
});

describe('simulator: read-back over HTTP', () => {
  const post = (sim: Simulator, path: string, body?: unknown) =>
    fetch(`${sim.url}${path}`, {
      method: 'POST',
      headers: { ...control(sim), 'Content-Type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
  const get = (sim: Simulator, path: string) => fetch(`${sim.url}${path}`, { headers: control(sim) });

  it('round-trips faults, calls, stats and reset', async () => {
    const sim = await start();
    const bad = await post(sim, '/_sim/faults', { errorRate: 2 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe(
      'Invalid simulator fault `errorRate`: expected a number from 0 to 1, got 2',
    );
    const unknown = await post(sim, '/_sim/faults', { errorRat: 1 });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toContain('`errorRat`');
    const port = await post(sim, '/_sim/faults', { port: 80 });
    expect(port.status).toBe(400);

    const ok = await post(sim, '/_sim/faults', { errorRate: 1, forcedErrors: { '7': 'ResourceNotFound' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ errorRate: 1, forcedErrors: { '7': 'ResourceNotFound' }, rateLimit: 20 });
    expect(sim.faults().errorRate).toBe(1);
    expect(codeOf(await call(sim, scan(7)))).toBe('ResourceNotFound');
    expect(codeOf(await call(sim, scan(8)))).toBe('InternalError');

    const calls = (await (await get(sim, '/_sim/calls')).json()) as { seq: number; code: string }[];
    expect(calls.map((c) => c.code)).toEqual(['ResourceNotFound', 'InternalError']);
    const since = (await (await get(sim, '/_sim/calls?since=1')).json()) as { seq: number }[];
    expect(since.map((c) => c.seq)).toEqual([2]);
    const stats = (await (await get(sim, '/_sim/stats?windowMs=500')).json()) as Record<string, unknown>;
    expect(stats).toMatchObject({
      total: 2,
      accepted: 0,
      windowMs: 500,
      maxInAnyWindow: 2,
      byCode: { InternalError: 1 },
    });

    expect((await post(sim, '/_sim/reset')).status).toBe(200);
    expect(await (await get(sim, '/_sim/calls')).json()).toEqual([]);
    expect((await get(sim, '/_sim/nothing')).status).toBe(404);
    expect((await get(sim, '/_sim/reset')).status).toBe(405);
  });
});

describe('simulator options', () => {
  it('fills defaults and names a bad option with its value', async () => {
    expect(resolveSimulatorOptions()).toMatchObject({
      host: '127.0.0.1',
      port: 0,
      rateLimit: 20,
      credentials: [{ secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY }],
      firstTaskId: 1001,
    });
    await expect(startSimulator({ hangRate: -1 })).rejects.toThrow(
      'Invalid simulator option `hangRate`: expected a number from 0 to 1, got -1',
    );
    expect(() => resolveSimulatorOptions({ credentials: [{ secretId: 'a', secretKey: '' }] })).toThrow(
      'Invalid simulator option `credentials[0].secretKey`: expected a non-empty string, got (a secret key, not shown)',
    );
    expect(() => resolveSimulatorOptions({ forcedErrors: { abc: 'InternalError' } })).toThrow('forcedErrors');
    expect(() => resolveSimulatorOptions({ bogus: 1 } as SimulatorOptions)).toThrow('unknown simulator option `bogus`');
  });
});

describe('SlidingWindow (fake clock)', () => {
  const evenly = (w: SlidingWindow, key = 'k') => {
    for (let i = 0; i < 20; i++) expect(w.tryAcquire(key, i * 50).admitted).toBe(true); // t = 0..950
  };

  it('admits 20 in a second, refuses the 21st, and admits again as the window slides', () => {
    const w = new SlidingWindow({ limit: 20 });
    evenly(w);
    expect(w.tryAcquire('k', 999)).toEqual({ admitted: false, count: 21 });
    expect(w.tryAcquire('k', 1000)).toEqual({ admitted: true, count: 20 }); // t=0 has left (0, 1000]
    expect(w.tryAcquire('k', 1001).admitted).toBe(false);
    expect(w.tryAcquire('k', 1050).admitted).toBe(true);
    expect(w.tryAcquire('other', 1050).admitted).toBe(true); // keys are independent
  });

  it('countThrottled: refused arrivals keep the window full', () => {
    const counting = new SlidingWindow({ limit: 20, countThrottled: true });
    evenly(counting);
    expect(counting.tryAcquire('k', 999).admitted).toBe(false);
    // (0, 1000] still holds 19 admitted + the refused one at 999.
    expect(counting.tryAcquire('k', 1000)).toEqual({ admitted: false, count: 21 });
    // A client that keeps calling faster than the limit never gets through again.
    for (let t = 1040; t < 4000; t += 40) expect(counting.tryAcquire('k', t).admitted).toBe(false);
    expect(counting.tryAcquire('k', 5000).admitted).toBe(true);

    const notCounting = new SlidingWindow({ limit: 20, countThrottled: false });
    evenly(notCounting);
    expect(notCounting.tryAcquire('k', 999).admitted).toBe(false);
    expect(notCounting.tryAcquire('k', 1000).admitted).toBe(true);
  });

  it('uses the injected clock and never overfills a window when checked out of order', () => {
    let now = 5000;
    const w = new SlidingWindow({ limit: 3, clock: () => now });
    expect(w.tryAcquire('k').admitted).toBe(true);
    now = 5100;
    expect(w.tryAcquire('k').admitted).toBe(true);
    expect(w.countAt('k')).toBe(2);
    // An earlier arrival, checked late: (4100, 5100] would hold 4 with both 4200s.
    expect(w.tryAcquire('k', 4200).admitted).toBe(true);
    expect(w.tryAcquire('k', 4200).admitted).toBe(false);
    now = 6200;
    expect(w.tryAcquire('k').admitted).toBe(true);
  });
});

describe('maxInWindow', () => {
  it('finds the fullest window (e - windowMs, e] over unsorted times', () => {
    expect(maxInWindow([], 1000)).toBe(0);
    expect(maxInWindow([5], 1000)).toBe(1);
    expect(maxInWindow([0, 1000], 1000)).toBe(1);
    expect(maxInWindow([0, 999], 1000)).toBe(2);
    expect(maxInWindow([2500, 0, 100, 2000, 200, 2100, 2200, 2999], 1000)).toBe(5);
    const evenly = Array.from({ length: 40 }, (_, i) => i * 50);
    expect(maxInWindow(evenly, 1000)).toBe(20);
    expect(maxInWindow(evenly, 100)).toBe(2);
  });
});
