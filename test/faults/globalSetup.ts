/** The main suite's global setup (a throwaway Redis), plus a file that collects each scenario's summary line. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { faultLogRoot } from '../support/faultHarness';
import mainSetup from '../support/globalSetup';

export default async function globalSetup(): Promise<void> {
  await mainSetup();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tcss-rescan-faults-'));
  const file = path.join(dir, 'summary.txt');
  writeFileSync(file, '');
  process.env.FAULT_SUMMARY_FILE = file;
  // Each scenario leaves its worker and simulator logs here (see FaultEnv.saveLogs); a fresh folder per run.
  // (A folder the user named in FAULT_LOG_DIR is never emptied, only the default one.)
  const logs = faultLogRoot();
  if (process.env.FAULT_LOG_DIR === undefined) rmSync(logs, { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  process.env.FAULT_LOG_DIR = logs;
  (globalThis as { __faultStartedAt?: number }).__faultStartedAt = Date.now();
}
