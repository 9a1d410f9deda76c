#!/usr/bin/env node
/**
 * tcss-rescan: one command, several verbs (enqueue, status, tasks, start, serve, schedules, worker,
 * simulator, demo). The binary (dist/cli.js); the program lives in src/cli/, one file per verb.
 * Exit status: 0 on success, 1 when anything was refused or failed, 2 for usage errors.
 */
import { main } from './cli/main';

export { main } from './cli/main';
export { buildProgram } from './cli/program';
export { MAX_LINE_CHARS, parseJsonLines } from './cli/jsonLines';

if (require.main === module) {
  void main(process.argv);
}
