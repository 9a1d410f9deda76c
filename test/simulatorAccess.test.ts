/**
 * The simulator's control API and identities: no secret key ever leaves it, `/_sim/*` needs the
 * control token, only loopback Host names are served when bound to loopback, refused calls count by
 * default, memory stays bounded; keys belong to sub-accounts (one window per sub-account and action),
 * STS GetCallerIdentity / AssumeRole, and X-TC-Token checks for temporary keys.
 */
import http from 'node:http';
import {
  DEMO_SECRET_ID,
  DEMO_SECRET_KEY,
  DEMO_SUB_ACCOUNT_UIN,
  MAX_TEMPORARY,
  resolveSimulatorOptions,
  SCAN_ACTION,
  SlidingWindow,
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../src/simulator';
import { KeyRegistry } from '../src/simulator/accounts';
import { MAX_PER_KEY } from '../src/simulator/slidingWindow';
import { createSdkClient } from '../src/tcss/sdkClient';
import { identityKey, type CallerIdentity } from '../src/tcss/identity';

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

const KEY_A = {
  secretId: 'AKIDsubAccountKeyA000000000000000000',
  secretKey: 'secretKeyOfKeyA-0000000000000000',
  uin: '100000000021',
};
const KEY_B = {
  secretId: 'AKIDsubAccountKeyB000000000000000000',
  secretKey: 'secretKeyOfKeyB-0000000000000000',
  uin: '100000000021',
};
const KEY_C = {
  secretId: 'AKIDotherSubAccount00000000000000000',
  secretKey: 'secretKeyOfKeyC-0000000000000000',
  uin: '100000000031',
};

type Cred = { secretId: string; secretKey: string; token?: string };

function client(sim: Simulator, product: 'tcss' | 'sts', credential: Cred) {
  return createSdkClient({
    endpoint: new URL(sim.url),
    service: product,
    version: product === 'tcss' ? '2020-11-01' : '2018-08-13',
    region: 'ap-guangzhou',
    credential,
    timeoutMs: 5000,
  });
}

/** The error code of a refused call, or 'OK'. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return String((err as { code?: unknown }).code);
  }
}

const scan = (sim: Simulator, credential: Cred, policyItemId = 1) =>
  client(sim, 'tcss', credential).request(SCAN_ACTION, { CustomerPolicyItemId: policyItemId, CustomerAssetIdSet: [1] });

/** A raw request with a chosen Host header (fetch would not let us set it). */
function raw(sim: Simulator, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: sim.port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('simulator control API: secrets, token, Host', () => {
  it('never returns a secret key, in process or over HTTP', async () => {
    const sim = await start({ credentials: [{ secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY }, KEY_A] });
    const auth = { Authorization: `Bearer ${sim.controlToken}` };
    const res = await fetch(`${sim.url}/_sim/faults`, { headers: auth });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(KEY_A.secretId);
    for (const secret of [DEMO_SECRET_KEY, KEY_A.secretKey, sim.controlToken]) expect(text).not.toContain(secret);
    expect(JSON.stringify(sim.faults())).not.toContain(KEY_A.secretKey);
    // Nor the answer of a change, nor any other read-back.
    const set = await fetch(`${sim.url}/_sim/faults`, {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ errorRate: 0 }),
    });
    expect(await set.text()).not.toContain(KEY_A.secretKey);
    for (const path of ['/_sim/stats', '/_sim/calls'])
      expect(await (await fetch(`${sim.url}${path}`, { headers: auth })).text()).not.toContain(DEMO_SECRET_KEY);
  });

  it('requires the control token for every /_sim/* route', async () => {
    const sim = await start({ controlToken: 'a-control-token-of-ours-0001' });
    expect(sim.controlToken).toBe('a-control-token-of-ours-0001');
    for (const [method, path] of [
      ['GET', '/_sim/faults'],
      ['POST', '/_sim/faults'],
      ['GET', '/_sim/calls'],
      ['GET', '/_sim/stats'],
      ['POST', '/_sim/reset'],
    ] as const) {
      const none = await fetch(`${sim.url}${path}`, {
        method,
        ...(method === 'POST' ? { body: '{"revokedSecretIds":["x"]}' } : {}),
      });
      expect([path, none.status]).toEqual([path, 401]);
      const wrong = await fetch(`${sim.url}${path}`, {
        method,
        headers: { Authorization: 'Bearer a-control-token-of-ours-0002' },
      });
      expect([path, wrong.status]).toEqual([path, 401]);
    }
    expect(sim.faults().revokedSecretIds).toEqual([]);
    const ok = await fetch(`${sim.url}/_sim/stats`, {
      headers: { Authorization: 'Bearer a-control-token-of-ours-0001' },
    });
    expect(ok.status).toBe(200);
  });

  it('generates a different control token per start when none is given', async () => {
    const [a, b] = [await start(), await start()];
    expect(a.controlToken).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(a.controlToken).not.toBe(b.controlToken);
  });

  it('bound to loopback, answers only loopback Host names (DNS rebinding)', async () => {
    const sim = await start();
    const auth = { Authorization: `Bearer ${sim.controlToken}` };
    for (const host of ['evil.example', `evil.example:${sim.port}`, '127.0.0.1.evil.example']) {
      expect([host, (await raw(sim, '/_sim/faults', { ...auth, Host: host })).status]).toEqual([host, 421]);
    }
    for (const host of [`127.0.0.1:${sim.port}`, `localhost:${sim.port}`, 'localhost', '[::1]:80']) {
      expect([host, (await raw(sim, '/_sim/faults', { ...auth, Host: host })).status]).toEqual([host, 200]);
    }
    // The API too.
    expect((await raw(sim, '/', { Host: 'evil.example' })).status).toBe(421);
  });

  it('warns when bound to a non-loopback address', async () => {
    const sim = await start({ host: '0.0.0.0' });
    expect(sim.warnings.join()).toMatch(/0\.0\.0\.0, reachable from other machines/);
    const quiet = await start();
    expect(quiet.warnings).toEqual([]);
  });
});

describe('simulator strictness and bounded memory', () => {
  it('counts refused arrivals toward the window by default; lenient mode on request', async () => {
    expect(resolveSimulatorOptions().countThrottled).toBe(true);
    // Limit 1: four calls at once can only all be admitted if they arrive a second apart.
    const countsIn = async (options: SimulatorOptions) => {
      const sim = await start({ rateLimit: 1, ...options });
      const results = await Promise.allSettled(
        Array.from({ length: 4 }, (_, i) => scan(sim, { secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY }, i + 1)),
      );
      const refused = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason.message));
      return refused.map((m) => Number(/equals to `(\d+)`/.exec(m)?.[1]));
    };
    const strict = await countsIn({});
    expect(strict).toHaveLength(3);
    expect(Math.max(...strict)).toBe(4); // "request times equals to `4`": the refused ones counted
    const lenient = await countsIn({ countThrottled: false });
    expect(lenient).toHaveLength(3);
    expect(Math.max(...lenient)).toBe(2);
  });

  it('keeps at most maxCalls calls, and nothing of what unauthenticated requests claim', async () => {
    const sim = await start({ maxCalls: 50 });
    const body = JSON.stringify({
      CustomerPolicyItemId: 7,
      CustomerAssetIdSet: Array.from({ length: 1000 }, (_, i) => i + 1),
    });
    for (let i = 0; i < 120; i++) {
      await fetch(`${sim.url}/`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Authorization: `TC3-HMAC-SHA256 Credential=AKID${'x'.repeat(500)}/2020-01-01/tcss/tc3_request, SignedHeaders=content-type;host, Signature=${'0'.repeat(64)}`,
          'X-TC-Action': 'A'.repeat(5000),
        },
        body,
      });
    }
    const calls = sim.calls();
    expect(calls.length).toBeLessThanOrEqual(50);
    expect(calls.at(-1)!.seq).toBe(120);
    for (const c of calls) {
      expect(c).not.toHaveProperty('assetIds');
      expect(c.secretId.length).toBeLessThanOrEqual(64);
      expect(c.action.length).toBeLessThanOrEqual(64);
    }
  });

  it('keeps a bounded number of arrivals per window key, whatever the flood (fake clock)', () => {
    const w = new SlidingWindow({ limit: 20, countThrottled: true });
    for (let i = 0; i < MAX_PER_KEY * 2; i++) w.tryAcquire('k', 5);
    const kept = (w as unknown as { arrivals: Map<string, number[]> }).arrivals.get('k')!;
    expect(kept.length).toBeLessThanOrEqual(MAX_PER_KEY);
    expect(w.tryAcquire('k', 5).admitted).toBe(false);
  });
});

describe('simulator identities: sub-accounts, STS, temporary keys', () => {
  it('counts the limit per sub-account and action, not per key', async () => {
    const sim = await start({ credentials: [KEY_A, KEY_B, KEY_C] });
    const both = await Promise.all(
      Array.from({ length: 30 }, (_, i) => codeOf(scan(sim, i % 2 === 0 ? KEY_A : KEY_B, i + 1))),
    );
    expect(both.filter((c) => c === 'OK')).toHaveLength(20);
    expect(both.filter((c) => c === 'RequestLimitExceeded')).toHaveLength(10);
    // Another sub-account has its own window.
    expect(await codeOf(scan(sim, KEY_C))).toBe('OK');
    expect(
      new Set(
        sim
          .calls()
          .filter((c) => c.secretId !== KEY_C.secretId)
          .map((c) => c.principal),
      ),
    ).toEqual(new Set(['uin:100000000021']));
  });

  it('answers GetCallerIdentity signed for sts, and refuses it signed for tcss', async () => {
    const sim = await start({
      credentials: [{ secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY, uin: DEMO_SUB_ACCOUNT_UIN }, KEY_A, KEY_B],
    });
    const id = (await client(sim, 'sts', KEY_A).request('GetCallerIdentity', {})) as CallerIdentity & {
      RequestId: string;
    };
    expect(id).toMatchObject({
      UserId: '100000000021',
      PrincipalId: '100000000021',
      Type: 'CAMUser',
      Arn: expect.stringMatching(/^qcs::cam::uin\/\d+:uin\/100000000021$/),
    });
    const idB = (await client(sim, 'sts', KEY_B).request('GetCallerIdentity', {})) as CallerIdentity;
    expect(identityKey(idB)).toBe(identityKey(id));
    expect(
      identityKey(
        (await client(sim, 'sts', { secretId: DEMO_SECRET_ID, secretKey: DEMO_SECRET_KEY }).request(
          'GetCallerIdentity',
          {},
        )) as CallerIdentity,
      ),
    ).toBe(`uin:${DEMO_SUB_ACCOUNT_UIN}`);
    // Signed for the wrong service: refused, as a TCSS action signed for sts would be.
    const wrongService = createSdkClient({
      endpoint: new URL(sim.url),
      service: 'tcss',
      version: '2018-08-13',
      region: 'ap-guangzhou',
      credential: KEY_A,
      timeoutMs: 5000,
    });
    expect(await codeOf(wrongService.request('GetCallerIdentity', {}))).toBe('AuthFailure.InvalidAuthorization');
    expect(
      await codeOf(
        client(sim, 'sts', KEY_A).request(SCAN_ACTION, { CustomerPolicyItemId: 1, CustomerAssetIdSet: [1] }),
      ),
    ).toBe('AuthFailure.InvalidAuthorization');
    // STS calls are kept apart from the TCSS calls.
    expect(sim.calls().map((c) => c.code)).toEqual(['AuthFailure.InvalidAuthorization']);
    expect(sim.stsCalls().map((c) => c.code)).toEqual(['OK', 'OK', 'OK', 'AuthFailure.InvalidAuthorization']);
  });

  it('AssumeRole hands out temporary keys that need their X-TC-Token and expire', async () => {
    const sim = await start({ credentials: [KEY_A], temporaryCredentialsTtlMs: 1500 });
    const sts = client(sim, 'sts', KEY_A);
    const assumed = (await sts.request('AssumeRole', {
      RoleArn: 'qcs::cam::uin/100000000001:roleName/tcss-rescan',
      RoleSessionName: 'worker-1',
    })) as {
      Credentials: { TmpSecretId: string; TmpSecretKey: string; Token: string };
      ExpiredTime: number;
      Expiration: string;
    };
    const { TmpSecretId, TmpSecretKey, Token } = assumed.Credentials;
    expect(assumed.ExpiredTime * 1000).toBeGreaterThan(Date.now());
    expect(assumed.ExpiredTime * 1000).toBeLessThanOrEqual(Date.now() + 1500);
    const temp = { secretId: TmpSecretId, secretKey: TmpSecretKey, token: Token };
    expect(await codeOf(scan(sim, temp))).toBe('OK');
    expect(await codeOf(scan(sim, { secretId: TmpSecretId, secretKey: TmpSecretKey }))).toBe(
      'AuthFailure.TokenFailure',
    );
    expect(await codeOf(scan(sim, { ...temp, token: `${Token}x` }))).toBe('AuthFailure.TokenFailure');
    // The role is the identity, not the session.
    const id = (await client(sim, 'sts', temp).request('GetCallerIdentity', {})) as CallerIdentity;
    expect(id.UserId).toMatch(/^\d+:worker-1$/);
    const other = (await sts.request('AssumeRole', {
      RoleArn: 'qcs::cam::uin/100000000001:roleName/tcss-rescan',
      RoleSessionName: 'worker-2',
    })) as { Credentials: { TmpSecretId: string; TmpSecretKey: string; Token: string } };
    const id2 = (await client(sim, 'sts', {
      secretId: other.Credentials.TmpSecretId,
      secretKey: other.Credentials.TmpSecretKey,
      token: other.Credentials.Token,
    }).request('GetCallerIdentity', {})) as CallerIdentity;
    expect(identityKey(id2)).toBe(identityKey(id));
    expect(identityKey(id)).toMatch(/^role:100000000001\/\d+$/);
    // A temporary key cannot assume a role; a malformed ARN is refused.
    expect(
      await codeOf(
        client(sim, 'sts', temp).request('AssumeRole', {
          RoleArn: 'qcs::cam::uin/1:roleName/x',
          RoleSessionName: 'ab',
        }),
      ),
    ).toBe('InvalidParameter');
    expect(await codeOf(sts.request('AssumeRole', { RoleArn: 'arn:aws:iam::1:role/x', RoleSessionName: 'ab' }))).toBe(
      'InvalidParameter',
    );
    expect(await codeOf(sts.request('AssumeRole', { RoleSessionName: 'ab' }))).toBe('MissingParameter');
    await new Promise((r) => setTimeout(r, 1600));
    expect(await codeOf(scan(sim, temp))).toBe('AuthFailure.TokenFailure');
  });

  it('keeps at most MAX_TEMPORARY temporary keys, dropping expired ones first', () => {
    const keys = new KeyRegistry([KEY_A]);
    const first = keys.assumeRole('qcs::cam::uin/1:roleName/r', 'early', 1000, 0);
    for (let i = 0; i < MAX_TEMPORARY + 50; i++)
      keys.assumeRole('qcs::cam::uin/1:roleName/r', 's1', 60_000, 10_000_000);
    expect(keys.temporaryCount()).toBeLessThanOrEqual(MAX_TEMPORARY);
    expect(keys.lookup(first.TmpSecretId)).toBeUndefined();
    expect(keys.lookup(KEY_A.secretId)).toBeDefined();
  });
});
