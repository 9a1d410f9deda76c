/**
 * The caller identity the budget is keyed by (src/tcss/identity.ts) and the credential providers
 * (src/tcss/credentials.ts), against the simulator's STS: a CAM user's keys share one identity, a role
 * is one identity whatever the session, STS unreachable falls back loudly to the SecretId, and
 * temporary keys are renewed before they expire (and the identity learned again when they change).
 */
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { DEMO_SECRET_ID, DEMO_SUB_ACCOUNT_UIN, startSimulator, type Simulator } from '../../src/simulator';
import { createCredentials } from '../../src/tcss/credentials';
import { IdentityWatcher, learnBudgetIdentity } from '../../src/tcss/identity';
import { stsEndpoint } from '../../src/tcss/sts';

const KEY_A = {
  secretId: 'AKIDidentityKeyA00000000000000000000',
  secretKey: 'identityKeyA-secret-000000000000',
  uin: '100000000021',
};
const KEY_B = {
  secretId: 'AKIDidentityKeyB00000000000000000000',
  secretKey: 'identityKeyB-secret-000000000000',
  uin: '100000000021',
};
const ROLE = 'qcs::cam::uin/100000000001:roleName/tcss-rescan';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { logger, lines };
}

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ credentials: [KEY_A, KEY_B], temporaryCredentialsTtlMs: 32_000 });
});
afterAll(() => sim.close());

const cfgFor = (env: Record<string, string>) =>
  loadConfig({ TCSS_ENDPOINT: sim.url, TCSS_TIMEOUT_MS: '2000', ...env }).tcss;

describe('caller identity', () => {
  it('two keys of one CAM user have one identity: its UIN', async () => {
    const { logger } = capture();
    const ids = await Promise.all(
      [KEY_A, KEY_B].map((k) => {
        const tcss = cfgFor({ TENCENTCLOUD_SECRET_ID: k.secretId, TENCENTCLOUD_SECRET_KEY: k.secretKey });
        return learnBudgetIdentity(tcss, createCredentials(tcss), logger);
      }),
    );
    expect(ids).toEqual([
      { key: 'uin:100000000021', source: 'sts' },
      { key: 'uin:100000000021', source: 'sts' },
    ]);
    expect(
      sim.stsCalls().filter((c) => c.action === 'GetCallerIdentity' && c.code === 'OK').length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('the STS endpoint: the simulator on loopback, the right site otherwise, TENCENTCLOUD_STS_ENDPOINT first', () => {
    expect(stsEndpoint(cfgFor({})).origin).toBe(sim.url);
    expect(stsEndpoint(loadConfig({ TCSS_ENDPOINT: 'https://tcss.intl.tencentcloudapi.com' }).tcss).origin).toBe(
      'https://sts.intl.tencentcloudapi.com',
    );
    expect(stsEndpoint(loadConfig({ TCSS_ENDPOINT: 'https://tcss.tencentcloudapi.com' }).tcss).origin).toBe(
      'https://sts.tencentcloudapi.com',
    );
    expect(stsEndpoint(cfgFor({ TENCENTCLOUD_STS_ENDPOINT: 'http://127.0.0.1:9' })).origin).toBe('http://127.0.0.1:9');
    expect(() => loadConfig({ TENCENTCLOUD_STS_ENDPOINT: 'ftp://x' })).toThrow(
      /TENCENTCLOUD_STS_ENDPOINT: expected a URL/,
    );
    expect(() => loadConfig({ TENCENTCLOUD_STS_ENDPOINT: 'https://sts.example.com/path' })).toThrow(
      /TENCENTCLOUD_STS_ENDPOINT: expected a URL without a path/,
    );
  });

  it('STS unreachable: says so loudly and keys the budget by the SecretId, never by nothing', async () => {
    const { logger, lines } = capture();
    const tcss = cfgFor({
      TENCENTCLOUD_SECRET_ID: KEY_A.secretId,
      TENCENTCLOUD_SECRET_KEY: KEY_A.secretKey,
      TENCENTCLOUD_STS_ENDPOINT: 'http://127.0.0.1:9',
    });
    const id = await learnBudgetIdentity(tcss, createCredentials(tcss), logger);
    expect(id).toEqual({ key: `secretId:${KEY_A.secretId}`, source: 'fallback' });
    const loud = lines.find((l) => l.level === 50 && String(l.msg).startsWith('STS UNREACHABLE'));
    expect(loud).toBeDefined();
    expect(JSON.stringify(lines)).not.toContain(KEY_A.secretKey);
  });

  it('one lost STS answer is asked again, not turned into a budget apart from its peers', async () => {
    const { logger, lines } = capture();
    const tcss = cfgFor({
      TENCENTCLOUD_SECRET_ID: KEY_A.secretId,
      TENCENTCLOUD_SECRET_KEY: KEY_A.secretKey,
      TCSS_TIMEOUT_MS: '400',
    });
    // The first GetCallerIdentity is never answered (it times out after 400 ms); the next one is.
    sim.setFaults({ hangRate: 1 });
    const learning = learnBudgetIdentity(tcss, createCredentials(tcss), logger);
    await new Promise((r) => setTimeout(r, 150));
    sim.setFaults({ hangRate: 0 });
    expect(await learning).toEqual({ key: `uin:${KEY_A.uin}`, source: 'sts' });
    expect(lines.some((l) => String(l.msg).startsWith('STS UNREACHABLE'))).toBe(false);
  });

  it('TCSS_BUDGET_KEY overrides the identity without calling STS', async () => {
    const { logger } = capture();
    const before = sim.stsCalls().length;
    const tcss = cfgFor({
      TENCENTCLOUD_SECRET_ID: KEY_A.secretId,
      TENCENTCLOUD_SECRET_KEY: KEY_A.secretKey,
      TCSS_BUDGET_KEY: 'team-shared',
    });
    expect(await learnBudgetIdentity(tcss, createCredentials(tcss), logger)).toEqual({
      key: 'custom:team-shared',
      source: 'TCSS_BUDGET_KEY',
    });
    expect(sim.stsCalls().length).toBe(before);
  });

  it('the demo pair on loopback is its own sub-account', async () => {
    const demoSim = await startSimulator();
    try {
      const tcss = loadConfig({ TCSS_ENDPOINT: demoSim.url }).tcss;
      expect(tcss.credentialSource).toBe('demo');
      const creds = createCredentials(tcss);
      expect((await creds.getCredential()).secretId).toBe(DEMO_SECRET_ID);
      expect((await learnBudgetIdentity(tcss, creds, capture().logger)).key).toBe(`uin:${DEMO_SUB_ACCOUNT_UIN}`);
    } finally {
      await demoSim.close();
    }
  });
});

describe('credential providers', () => {
  it('config picks the provider: env, role when a role ARN is set, and refuses incomplete settings', () => {
    const keys = { TENCENTCLOUD_SECRET_ID: KEY_A.secretId, TENCENTCLOUD_SECRET_KEY: KEY_A.secretKey };
    expect(cfgFor(keys).credentialSource).toBe('env');
    expect(cfgFor({ ...keys, TENCENTCLOUD_ROLE_ARN: ROLE }).credentialSource).toBe('role');
    expect(cfgFor({ TENCENTCLOUD_CREDENTIALS: 'cvm' }).credentialSource).toBe('cvm');
    expect(() => cfgFor({ TENCENTCLOUD_CREDENTIALS: 'role', ...keys })).toThrow(
      /TENCENTCLOUD_ROLE_ARN: expected a role ARN/,
    );
    expect(() => cfgFor({ TENCENTCLOUD_CREDENTIALS: 'role', TENCENTCLOUD_ROLE_ARN: ROLE })).toThrow(
      /TENCENTCLOUD_SECRET_ID: expected the keys that assume the role/,
    );
    expect(() => cfgFor({ TENCENTCLOUD_CREDENTIALS: 'magic' })).toThrow(
      /TENCENTCLOUD_CREDENTIALS: expected one of auto, env, profile, role, cvm, oidc/,
    );
    expect(() => cfgFor({ ...keys, TENCENTCLOUD_ROLE_ARN: 'arn:aws:iam::1:role/x' })).toThrow(
      /TENCENTCLOUD_ROLE_ARN: expected a role ARN/,
    );
  });

  it('role: AssumeRole through the simulator, renewed 30 s before expiry, the identity learned again and unchanged', async () => {
    const { logger } = capture();
    const tcss = cfgFor({
      TENCENTCLOUD_SECRET_ID: KEY_A.secretId,
      TENCENTCLOUD_SECRET_KEY: KEY_A.secretKey,
      TENCENTCLOUD_ROLE_ARN: ROLE,
      TENCENTCLOUD_ROLE_SESSION_NAME: 'test-session',
    });
    const creds = createCredentials(tcss);
    const changes: string[] = [];
    const watcher = await IdentityWatcher.start(tcss, creds, logger, (next) => void changes.push(next.key));
    expect(watcher.identity).toEqual({ key: expect.stringMatching(/^role:100000000001\/\d+$/), source: 'sts' });
    const first = await creds.getCredential();
    expect(first.secretId).toMatch(/^AKIDtmp/);
    expect(first.token).toBeDefined();
    expect((await creds.getCredential()).secretId).toBe(first.secretId); // cached while fresh
    const identityCalls = () =>
      sim.stsCalls().filter((c) => c.action === 'GetCallerIdentity' && c.secretId.startsWith('AKIDtmp')).length;
    const before = identityCalls();
    // TTL 32 s, renewed 30 s ahead: new keys after 2 s.
    await new Promise((r) => setTimeout(r, 2300));
    const second = await creds.getCredential();
    expect(second.secretId).not.toBe(first.secretId);
    await watcher.relearn(); // lets the relearn the change started finish
    expect(identityCalls()).toBeGreaterThan(before);
    expect(changes).toEqual([]); // same role, same identity, same budget
  });

  it('role: renews in the background at 3/4 of the usable life; calls meanwhile keep the current keys', async () => {
    // TTL 40 s: usable 10 s (the SDK's 30 s margin), renewed in the background from 7.5 s.
    const slowSim = await startSimulator({ credentials: [KEY_A], temporaryCredentialsTtlMs: 40_000 });
    try {
      const tcss = loadConfig({
        TCSS_ENDPOINT: slowSim.url,
        TENCENTCLOUD_SECRET_ID: KEY_A.secretId,
        TENCENTCLOUD_SECRET_KEY: KEY_A.secretKey,
        TENCENTCLOUD_ROLE_ARN: ROLE,
      }).tcss;
      const creds = createCredentials(tcss);
      const first = await creds.getCredential();
      const assumeRoles = () => slowSim.stsCalls().filter((c) => c.action === 'AssumeRole').length;
      expect(assumeRoles()).toBe(1);
      await new Promise((r) => setTimeout(r, 7_800));
      // Served the current keys at once; the renewal runs beside.
      expect((await creds.getCredential()).secretId).toBe(first.secretId);
      const renewed = async () => {
        for (let i = 0; i < 40 && assumeRoles() < 2; i++) await new Promise((r) => setTimeout(r, 50));
        return assumeRoles();
      };
      expect(await renewed()).toBe(2);
      expect((await creds.getCredential()).secretId).not.toBe(first.secretId);
    } finally {
      await slowSim.close();
    }
  });

  it('a failed renewal is forgotten: the next call asks STS again', async () => {
    const failing = await startSimulator({ credentials: [KEY_A], unreachable: true });
    try {
      const tcss = loadConfig({
        TCSS_ENDPOINT: failing.url,
        TCSS_TIMEOUT_MS: '2000',
        TENCENTCLOUD_SECRET_ID: KEY_A.secretId,
        TENCENTCLOUD_SECRET_KEY: KEY_A.secretKey,
        TENCENTCLOUD_ROLE_ARN: ROLE,
      }).tcss;
      const creds = createCredentials(tcss);
      await expect(creds.getCredential()).rejects.toMatchObject({ code: 'CredentialsUnavailable' });
      failing.setFaults({ unreachable: false });
      expect((await creds.getCredential()).secretId).toMatch(/^AKIDtmp/);
    } finally {
      await failing.close();
    }
  });
});
