/**
 * /healthz while the API is saturated with POSTs of 10,000 rescans each (issue 10, point 11): it took
 * up to 6.3 s when parsing, validating and adding the jobs ran in long stretches on the event loop.
 *
 * The server runs in this process, the load in a child process (its own CPU work stays out of the
 * measured loop), on a Redis of its own (some 100k jobs).
 *
 * What keeps a probe waiting is a long stretch of work on the event loop, so that is what is bounded:
 * the CPU time this process spends between two ticks of a 5 ms timer, under 500 ms. CPU time, not wall
 * time: on a loaded 2-core machine the process may wait for a core, which no code of ours can change.
 * It counts every thread of the process (V8's parallel GC too), so it overstates the loop's own
 * stretches; before the fix one stretch (BullMQ preparing 4,000 jobs at once) took about 600 ms.
 * The probes' wall times get loose bounds; before the fix a single probe waited over 10 s. Measured at
 * load average 20: longest stretch about 110 ms CPU, probes median 20-130 ms, worst about 400 ms; one CI
 * run with the other test file's Chromium starting beside it saw a 389 ms stretch, hence 500.
 */
import { spawn } from 'node:child_process';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startRedisServer, type RedisServerHandle } from '../../src/redisServer';
import { startServer, type RunningServer } from '../../src/server/run';
import { sleep, uniqueName } from '../support/redis';

jest.setTimeout(120_000);

const TOKEN = 'probe-token-0123456789-0123456789';
const LOAD_SECONDS = 8;
const LANES = 4;

/** POSTs of `per` rescans from `lanes` parallel clients for `seconds`; prints the statuses as JSON. */
const LOAD_SCRIPT = `
const [base, token, seconds, lanes, per] = process.argv.slice(1);
const body = JSON.stringify(Array.from({ length: Number(per) }, (_, i) => ({ policyItemId: 1 + (i % 50), assetIds: [i + 1, i + 2] })));
const end = Date.now() + Number(seconds) * 1000;
const statuses = {};
async function lane() {
  while (Date.now() < end) {
    const r = await fetch(base + '/v1/rescans', { method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body });
    await r.arrayBuffer();
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  }
}
Promise.all(Array.from({ length: Number(lanes) }, lane)).then(() => console.log(JSON.stringify(statuses)), (e) => { console.error(e); process.exit(1); });
`;

let redis: RedisServerHandle;
let server: RunningServer;

beforeAll(async () => {
  redis = await startRedisServer();
  const cfg = loadConfig({
    REDIS_URL: redis.url,
    QUEUE_NAME: uniqueName('probes'),
    SERVER_PORT: '0',
    SERVER_API_TOKEN: TOKEN,
  });
  server = await startServer(cfg, createLogger('silent'));
});

afterAll(async () => {
  await server?.close();
  await redis?.stop();
});

test('/healthz answers quickly while POSTs of 10,000 rescans keep the API busy', async () => {
  const child = spawn(
    process.execPath,
    ['-e', LOAD_SCRIPT, server.url, TOKEN, String(LOAD_SECONDS), String(LANES), '10000'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

  // Sample from the second second on, once the load is in full swing.
  await sleep(1000);
  let lastCpu = process.cpuUsage();
  let longestStretchMs = 0;
  const ticker = setInterval(() => {
    const now = process.cpuUsage();
    longestStretchMs = Math.max(longestStretchMs, (now.user - lastCpu.user + now.system - lastCpu.system) / 1000);
    lastCpu = now;
  }, 5);
  const latencies: number[] = [];
  const until = Date.now() + (LOAD_SECONDS - 2) * 1000;
  while (Date.now() < until) {
    const t = performance.now();
    const res = await fetch(`${server.url}/healthz`);
    await res.text();
    expect(res.status).toBe(200);
    latencies.push(performance.now() - t);
    await sleep(50);
  }
  clearInterval(ticker);
  expect(await exited).toBe(0);
  const statuses = JSON.parse(out) as Record<string, number>;
  // The load was real: several big POSTs got through while we sampled, and none failed.
  expect(Object.keys(statuses)).toEqual(['202']);
  expect(statuses['202']).toBeGreaterThanOrEqual(3);
  expect(err).toBe('');

  latencies.sort((a, b) => a - b);
  const median = latencies[Math.floor(latencies.length / 2)]!;
  const max = latencies[latencies.length - 1]!;
  // Shown when the test fails (and kept short when it passes).
  const summary = `longest stretch=${longestStretchMs.toFixed(0)}ms CPU; probes=${latencies.length} median=${median.toFixed(0)}ms p90=${latencies[Math.floor(latencies.length * 0.9)]!.toFixed(0)}ms max=${max.toFixed(0)}ms posts=${statuses['202']}`;
  if (process.env.SHOW_PROBE_SUMMARY) console.log(summary);
  expect({ summary, stretchUnder500: longestStretchMs < 500 }).toEqual({ summary, stretchUnder500: true });
  expect({ summary, medianUnder500: median < 500 }).toEqual({ summary, medianUnder500: true });
  expect({ summary, maxUnder3000: max < 3000 }).toEqual({ summary, maxUnder3000: true });
});
