/** `demo`: simulator + worker + a sample workload, end to end on this machine (src/demo.ts). */
import type { Command } from 'commander';
import { positiveInt } from './args';
import { verb } from './env';
import { ExitCode } from './errors';

export function addDemoVerb(program: Command): void {
  verb(program, 'demo')
    .description('simulator + worker + a sample workload, end to end on this machine')
    .option('--jobs <n>', 'sample rescans to enqueue', positiveInt('--jobs'), 200)
    .option('--keep-running', 'keep the dashboard up after the summary, until Ctrl-C', false)
    .action(async (opts: { jobs: number; keepRunning: boolean }) => {
      const { runDemo } = await import('../demo');
      await runDemo({ jobs: opts.jobs, keepRunning: opts.keepRunning });
      process.exit(ExitCode.ok);
    });
}
