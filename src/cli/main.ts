/** Runs the program on an argv, every error reported the one way (src/cli/errors.ts). */
import { reportError } from './errors';
import { buildProgram } from './program';

export async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  // Last resort for errors nobody awaited: Node would print them with util.inspect, enumerable
  // properties (ioredis's command arguments) included.
  process.on('uncaughtException', (err) => reportError(err, json));
  process.on('unhandledRejection', (err) => reportError(err, json));
  try {
    await buildProgram({ json }).parseAsync(argv);
  } catch (err) {
    reportError(err, json);
  }
}
