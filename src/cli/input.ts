/** The input files of `enqueue --file` and `schedules sync --file`: a path, or stdin for `-`. */
import { readFileSync } from 'node:fs';
import { fail, type Output } from './errors';
import { errorMessage } from '../redact';

/** The file's text (UTF-8); when it cannot be read, says why and exits 1. */
export function readInput(out: Output, file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    fail(out, `cannot read ${file}: ${errorMessage(err)}`);
  }
}
