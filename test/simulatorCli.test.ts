/** `tcss-rescan simulator --missing-asset-ids/--missing-policy-item-ids/--missing-code` (the built CLI). */
import { spawn } from 'node:child_process';
import { CLI_PATH, cliEnv, runCliAsync } from './support/cliRun';

test('bad ids are a usage error (exit 2) naming the flag', async () => {
  const r = await runCliAsync(['simulator', '--port', '0', '--missing-asset-ids', '1,x'], { queueName: 'sim-cli', cwd: process.cwd() });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('--missing-asset-ids');
  expect(r.stderr).toContain('"x"');
});

test('the flags reach the simulator: its faults name the missing ids and the code', async () => {
  const child = spawn(process.execPath, [CLI_PATH, 'simulator', '--port', '0', '--missing-asset-ids', '5, 6', '--missing-policy-item-ids', '9', '--missing-code', 'ResourceNotFound'], {
    env: cliEnv('sim-cli'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 15_000);
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const faults = (await (await fetch(`${url}/_sim/faults`)).json()) as Record<string, unknown>;
    expect(faults).toMatchObject({ missingAssetIds: [5, 6], missingPolicyItemIds: [9], missingCode: 'ResourceNotFound' });
  } finally {
    child.kill('SIGTERM');
  }
});
