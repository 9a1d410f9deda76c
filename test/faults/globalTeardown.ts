/** Prints every scenario's summary line together (for docs/guarantees.md), then the main teardown. */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import mainTeardown from '../support/globalTeardown';

export default async function globalTeardown(): Promise<void> {
  const file = process.env.FAULT_SUMMARY_FILE;
  if (file) {
    const lines = readFileSync(file, 'utf8').trim();
    const started = (globalThis as { __faultStartedAt?: number }).__faultStartedAt;
    const took = started ? ` (${Math.round((Date.now() - started) / 1000)} s)` : '';
    process.stdout.write(
      `\nfault suite summary${took}\n${
        lines
          ? lines
              .split('\n')
              .map((l) => `  ${l}`)
              .join('\n')
          : '  (no scenario finished)'
      }\n`,
    );
    rmSync(path.dirname(file), { recursive: true, force: true });
  }
  await mainTeardown();
}
