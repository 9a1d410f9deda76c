/** How a configuration problem is reported: one ConfigError listing every problem, values shown safely. */
import { maskUrlPasswords } from '../redact';
import { ProblemsError } from '../problems';
import { SECRET_VARIABLES } from './schema';

/** A configuration problem: names every offending variable with what was expected and received. */
export class ConfigError extends ProblemsError {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(problems: string[]) {
    super(problems, `Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** A received value as an error message may show it: secrets hidden, passwords in URLs masked. */
export function shown(name: string, value: string | undefined): string {
  if (value === undefined) return 'nothing';
  if (SECRET_VARIABLES.has(name)) return '(hidden)';
  return JSON.stringify(maskUrlPasswords(value));
}
