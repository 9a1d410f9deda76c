/** The main suite's global setup (a throwaway Redis), plus a file that collects each scenario's summary line. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mainSetup from '../support/globalSetup';

export default async function globalSetup(): Promise<void> {
  await mainSetup();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcss-rescan-faults-'));
  const file = path.join(dir, 'summary.txt');
  writeFileSync(file, '');
  process.env.FAULT_SUMMARY_FILE = file;
  (globalThis as { __faultStartedAt?: number }).__faultStartedAt = Date.now();
}
