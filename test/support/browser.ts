/**
 * Headless Chromium for browser tests: Debian's `chromium` package driven by playwright-core (which
 * never downloads a browser). A missing binary is a failure with the fix in the message, never a skip.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Headless, no sandbox (containers, root), and nothing that talks to Google in the background. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Throws (so the test fails) when the browser is not installed. */
export function requireChromium(): string {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `${CHROMIUM_PATH} not found: the browser tests need Debian's chromium. ` +
        'Install it with `sudo apt-get install -y chromium` (`bash .ci/run` does this); ' +
        'do not run `npx playwright install`, the tests use the system browser.',
    );
  }
  return CHROMIUM_PATH;
}

/** Launches headless Chromium; Playwright gives it a fresh temporary --user-data-dir and removes it on close. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: requireChromium(), args: CHROMIUM_ARGS, headless: true, timeout: 60_000 });
}
