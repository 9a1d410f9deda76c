/**
 * The queue dashboard in a real browser: headless Chromium (Debian's, driven by playwright-core) logs
 * in with basic auth, finds the queue by name, opens its Completed jobs and one job, and sees the TaskId
 * the API returned, with the server's Content-Security-Policy in force (no violation reported). Everything runs in this process: the simulator, a worker, the HTTP server, on the
 * suite's Redis. Leaves a screenshot at artifacts/dashboard.png.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../src/config';
import type { RescanResult } from '../../src/job';
import { createLogger } from '../../src/logger';
import { RescanProducer } from '../../src/producer';
import { startServer, type RunningServer } from '../../src/server/run';
import { startSimulator, type Simulator } from '../../src/simulator';
import { RescanWorker } from '../../src/worker';
import { launchChromium, requireChromium } from '../support/browser';
import { redisClient, testRedisUrl, uniqueName, waitFor } from '../support/redis';

jest.setTimeout(30_000);

const USER = 'admin';
const PASSWORD = 'a-long-test-password';
const SCREENSHOT = path.join(__dirname, '..', '..', 'artifacts', 'dashboard.png');
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const queueName = uniqueName('dash');
let sim: Simulator | undefined;
let worker: RescanWorker | undefined;
let server: RunningServer | undefined;
let producer: RescanProducer | undefined;
let redis: Redis | undefined;
let browser: Browser | undefined;
let jobId: string;
let result: RescanResult;

/** A browser context that only reaches our server (the UI's Google Fonts link is refused, not waited for). */
async function newContext(credentials: { username: string; password: string } | undefined): Promise<BrowserContext> {
  const origin = new URL(server!.url).origin;
  const context = await browser!.newContext({
    viewport: { width: 1400, height: 900 },
    locale: 'en-US',
    timezoneId: 'UTC',
    ...(credentials ? { httpCredentials: { ...credentials, origin } } : {}),
  });
  await context.route(
    (url) => url.origin !== origin,
    (route) => route.abort(),
  );
  return context;
}

beforeAll(async () => {
  requireChromium(); // fail first, with the fix, before starting anything
  sim = await startSimulator({ port: 0 });
  const config = loadConfig({
    REDIS_URL: testRedisUrl(),
    QUEUE_NAME: queueName,
    TCSS_ENDPOINT: sim.url,
    SERVER_PORT: '0',
    SERVER_PASSWORD: PASSWORD,
    LOG_LEVEL: 'warn',
  });
  const logger = createLogger('warn');
  worker = await RescanWorker.start({ config, logger });
  server = await startServer(config, logger);
  producer = new RescanProducer({ redisUrl: testRedisUrl(), queueName });
  redis = redisClient();

  const { jobIds } = await producer.enqueue({ policyItemId: 2798, assetIds: [2202462], assetType: 'ASSET_CONTAINER' });
  jobId = jobIds[0]!;
  const queue = producer.queue;
  const job = await waitFor(
    async () => {
      const j = await queue.getJob(jobId);
      const state = j ? await j.getState() : 'missing';
      if (state === 'failed') throw new Error(`job ${jobId} failed: ${j?.failedReason}`);
      // Read again: `j` may have been read just before it completed (returnvalue still null).
      return state === 'completed' ? await queue.getJob(jobId) : undefined;
    },
    15_000,
    50,
    `job ${jobId} to complete`,
  );
  result = job.returnvalue;
  expect(Number.isSafeInteger(result.taskId)).toBe(true);

  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await server?.close();
  await worker?.close();
  if (producer) {
    await producer.queue.obliterate({ force: true }).catch(() => undefined);
    await producer.close();
  }
  if (redis) {
    const own = await redis.keys(`tcss-rescan:{${queueName}}:*`);
    if (own.length > 0) await redis.del(...own);
    await redis.quit();
  }
  await sim?.close();
});

test('without credentials, or with a wrong password, the dashboard answers 401', async () => {
  const res = await fetch(`${server!.url}/dashboard`);
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);

  const wrong = await fetch(`${server!.url}/dashboard`, {
    headers: { authorization: `Basic ${Buffer.from(`${USER}:not-the-password`).toString('base64')}` },
  });
  expect(wrong.status).toBe(401);

  // In the browser. Without credentials Playwright declines the challenge, so the navigation itself
  // fails (net::ERR_INVALID_AUTH_CREDENTIALS) after the 401 arrives; with a wrong password the 401
  // page is shown. Either way the dashboard never renders.
  for (const credentials of [undefined, { username: USER, password: 'not-the-password' }]) {
    const context = await newContext(credentials);
    try {
      const page = await context.newPage();
      const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/dashboard');
      await page.goto(`${server!.url}/dashboard`).catch(() => undefined);
      expect((await answered).status()).toBe(401);
      expect(await page.getByRole('navigation').count()).toBe(0);
      expect(await page.getByText(queueName).count()).toBe(0);
    } finally {
      await context.close();
    }
  }
});

test('logs in, finds the queue and its completed job, and shows the TaskId', async () => {
  const context = await newContext({ username: USER, password: PASSWORD });
  let page: Page | undefined;
  try {
    page = await context.newPage();
    // The security headers (src/server/securityHeaders.ts) must not break the UI: no CSP violation.
    const violations: string[] = [];
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text());
    });
    const response = await page.goto(`${server!.url}/dashboard`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/frame-ancestors 'none'/);

    // The queue, by name, in the sidebar.
    const queueLink = page.getByRole('navigation').getByRole('link', { name: queueName, exact: true });
    await queueLink.click();
    await page.waitForURL(`**/dashboard/queue/${queueName}*`);
    await page.getByRole('heading', { level: 1, name: queueName, exact: true }).waitFor();

    // Its Completed tab (labelled "COMPLETED <count>").
    await page.getByRole('link', { name: /^completed\b/i }).click();
    await page.waitForURL(/[?&]status=completed\b/);

    // The job, then its Data tab, which holds the data and the return value.
    await page.getByRole('link', { name: new RegExp(`^#${escape(jobId)}\\b`) }).click();
    await page.waitForURL(`**/dashboard/queue/${queueName}/${jobId}*`);
    const dataTab = page.getByRole('tab', { name: 'Data', exact: true });
    await dataTab.click();
    expect(await dataTab.getAttribute('aria-selected')).toBe('true');

    const panel = page.getByRole('tabpanel', { name: 'Data' });
    await panel.getByText('returnValue:', { exact: true }).waitFor();
    // The TaskId, as the value of returnValue.taskId (not just any number on the page).
    const taskIdItem = panel.getByRole('treeitem', { name: new RegExp(`^taskId:\\s*${result.taskId},?$`) });
    await taskIdItem.waitFor();
    await expect(taskIdItem.getByText(String(result.taskId), { exact: true }).isVisible()).resolves.toBe(true);
    await expect(panel.getByText(`"${result.requestId}"`, { exact: true }).isVisible()).resolves.toBe(true);

    // The screenshot must show it: bring it into the viewport first.
    await taskIdItem.scrollIntoViewIfNeeded();
    const box = await taskIdItem.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.y).toBeGreaterThanOrEqual(0);
    expect(box!.y + box!.height).toBeLessThanOrEqual(900);
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(violations).toEqual([]);
  } catch (err) {
    // Leave what the browser saw, for whoever reads the failure.
    if (page) {
      mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-failure.png') }).catch(() => undefined);
    }
    throw err;
  } finally {
    await context.close();
  }
});
