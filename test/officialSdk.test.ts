/**
 * The simulator as another language's client sees it: `tcss-rescan simulator` prints its demo
 * SecretId and SecretKey, and the UNMODIFIED official SDK client (tencentcloud-sdk-nodejs-common's
 * CommonClient, which takes the signing service from the endpoint's first DNS label, like the other
 * official SDKs) gets a TaskId with them when pointed at a `tcss.*` host name, as docs/from-other-languages.md shows.
 * The name is resolved to 127.0.0.1 by the agent's lookup here, by /etc/hosts for a user.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { CommonClient } from 'tencentcloud-sdk-nodejs-common';

const CLI = path.join(__dirname, '..', 'dist', 'cli.js');
let child: ChildProcess;
let out = '';

beforeAll(async () => {
  child = spawn(process.execPath, [CLI, 'simulator', '--port', '0'], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!/SecretKey \S+/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`the simulator did not print its credentials: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(() => {
  child?.kill('SIGTERM');
});

test('prints its demo credentials, and the official SDK client gets a TaskId with them on a tcss.* host', async () => {
  const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  const secretId = /SecretId (\S+)/.exec(out)?.[1];
  const secretKey = /SecretKey (\S+)/.exec(out)?.[1];
  expect(port).toBeGreaterThan(0);
  expect(secretId).toMatch(/^AKID/);
  expect(secretKey).toBeTruthy();

  const agent = new http.Agent({
    // What `127.0.0.1 tcss.localhost` in /etc/hosts does for a user; nothing else is resolved.
    lookup: ((host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
      if (host !== 'tcss.localhost')
        return cb(Object.assign(new Error(`unexpected host ${host}`), { code: 'ENOTFOUND' }));
      return opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4);
    }) as never,
  });
  const client = new CommonClient(`tcss.localhost:${port}`, '2020-11-01', {
    credential: { secretId, secretKey },
    region: 'ap-guangzhou',
    profile: { httpProfile: { protocol: 'http://', agent } },
  });
  try {
    const res = (await client.request('ScanComplianceAssetsByPolicyItem', {
      CustomerPolicyItemId: 2798,
      CustomerAssetIdSet: [2202462],
    })) as { TaskId?: number; RequestId?: string };
    expect(res.TaskId).toEqual(expect.any(Number));
    expect(res.RequestId).toEqual(expect.any(String));
    // The same client on the bare address signs for service "127" and is refused, which is why the host name matters.
    const bare = new CommonClient(`127.0.0.1:${port}`, '2020-11-01', {
      credential: { secretId, secretKey },
      region: 'ap-guangzhou',
      profile: { httpProfile: { protocol: 'http://' } },
    });
    await expect(
      bare.request('ScanComplianceAssetsByPolicyItem', { CustomerPolicyItemId: 2798, CustomerAssetIdSet: [2202462] }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^AuthFailure/) });
  } finally {
    agent.destroy();
  }
});
