/** The program: its verbs (one file each under src/cli/), version, and how usage errors are shown. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { escapeControlsKeepLines, safeJson } from '../terminalText';
import { addDemoVerb } from './demo';
import { addEnqueueVerb } from './enqueue';
import { ExitCode } from './errors';
import { addSchedulesVerbs } from './schedules';
import { addServiceVerbs, addWorkerVerb } from './service';
import { addSimulatorVerb } from './simulator';
import { addStatusVerb } from './status';
import { addTasksVerb } from './tasks';

/** The package's version (package.json sits next to dist/ and src/, this file one folder below them). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string })
    .version;
}

/**
 * The program. With `json`, usage errors are JSON on stdout like every other error (and no help is
 * printed after them).
 */
export function buildProgram(opts: { json?: boolean } = {}): Command {
  const json = opts.json === true;
  const program = new Command('tcss-rescan')
    .description('Rate-limited rescans of Tencent Cloud TCSS compliance check items, through a BullMQ queue')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError(!json)
    .configureOutput({ outputError: (str, write) => (json ? undefined : write(escapeControlsKeepLines(str))) })
    .exitOverride((err) => {
      if (err.exitCode !== 0 && json)
        process.stdout.write(
          safeJson({ error: err.message.replace(/^error: /, ''), problems: [], code: 'USAGE' }) + '\n',
        );
      process.exit(err.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
    });

  // In this order in --help.
  addEnqueueVerb(program);
  addStatusVerb(program);
  addTasksVerb(program);
  addServiceVerbs(program); // start, serve
  addSchedulesVerbs(program);
  addWorkerVerb(program);
  addSimulatorVerb(program);
  addDemoVerb(program);
  return program;
}
