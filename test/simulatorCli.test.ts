/**
 * `tcss-rescan simulator` (the built CLI): prints its control token, never takes the configured
 * Tencent keys, and warns when it listens beyond loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { runCliAsync } from './support/cliRun';
import { CLI } from './support/workerProcess';

const REAL = {
  TENCENTCLOUD_SECRET_ID: 'AKIDrealTencentKeyNotForTheSim000000',
  TENCENTCLOUD_SECRET_KEY: 'realTencentSecretKey-0000000000000',
};

let children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children = [];
});

/** Starts the simulator; resolves with its URL, control token and everything it printed so far. */
function startSim(
  args: string[],
  env: Record<string, string>,
): Promise<{ url: string; token: string; output: () => string }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('TENCENTCLOUD_') && !k.startsWith('TCSS_') && !k.startsWith('SIM_'),
    ),
  );
  const child = spawn(process.execPath, [CLI, 'simulator', '--port', '0', ...args], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let text = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator did not start:\n${text}`)), 15_000);
    const onData = (d: Buffer) => {
      text += d.toString();
      const url = /listening on (http:\/\/\S+)/.exec(text)?.[1];
      const token = /Authorization: Bearer (\S+)/.exec(text)?.[1];
      if (url && token) {
        clearTimeout(timer);
        resolve({ url, token, output: () => text });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`simulator exited ${code}:\n${text}`)));
  });
}

test('prints a control token, requires it, and never takes the configured Tencent keys', async () => {
  const sim = await startSim([], REAL);
  const url = new URL(sim.url);
  url.hostname = '127.0.0.1';
  expect((await fetch(`${url.origin}/_sim/faults`)).status).toBe(401);
  const faults = await (
    await fetch(`${url.origin}/_sim/faults`, { headers: { Authorization: `Bearer ${sim.token}` } })
  ).text();
  expect(faults).not.toContain(REAL.TENCENTCLOUD_SECRET_ID);
  expect(faults).not.toContain(REAL.TENCENTCLOUD_SECRET_KEY);
  expect(sim.output()).not.toContain(REAL.TENCENTCLOUD_SECRET_KEY);
});

test('takes its control token from SIM_CONTROL_TOKEN', async () => {
  const sim = await startSim([], { SIM_CONTROL_TOKEN: 'our-own-control-token-0001' });
  expect(sim.token).toBe('our-own-control-token-0001');
});

test('warns on stderr when bound to a non-loopback address', async () => {
  const sim = await startSim(['--host', '0.0.0.0'], {});
  await new Promise((r) => setTimeout(r, 200));
  expect(sim.output()).toMatch(/SimulatorWarning: .*0\.0\.0\.0, reachable from other machines/);
});

test('bad missing-resource ids are a usage error (exit 2) naming the flag', async () => {
  const r = await runCliAsync(['simulator', '--port', '0', '--missing-asset-ids', '1,x'], {
    queueName: 'sim-cli',
    cwd: process.cwd(),
  });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('--missing-asset-ids');
  expect(r.stderr).toContain('"x"');
});

test('the missing-resource flags reach the simulator: its faults name the missing ids and the code', async () => {
  const sim = await startSim(
    ['--missing-asset-ids', '5, 6', '--missing-policy-item-ids', '9', '--missing-code', 'ResourceNotFound'],
    {},
  );
  const url = new URL(sim.url);
  url.hostname = '127.0.0.1';
  const faults = (await (
    await fetch(`${url.origin}/_sim/faults`, { headers: { Authorization: `Bearer ${sim.token}` } })
  ).json()) as Record<string, unknown>;
  expect(faults).toMatchObject({ missingAssetIds: [5, 6], missingPolicyItemIds: [9], missingCode: 'ResourceNotFound' });
});
