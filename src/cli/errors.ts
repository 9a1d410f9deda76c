/**
 * Exit codes and error reporting: every refusal and failure leaves the CLI through `fail`, as text on
 * stderr or, with --json, as JSON on stdout.
 */
import { ConfigError } from '../config';
import { isIdempotencyConflictError } from '../idempotency';
import { ValidationError } from '../job';
import { redactText } from '../redact';
import { isRedisUnavailableError } from '../redisFailFast';
import { escapeControls, escapeControlsKeepLines, safeJson } from '../terminalText';

/** Exit status: 0 on success, 1 when anything was refused or failed, 2 for usage errors. */
export const ExitCode = { ok: 0, failed: 1, usage: 2 } as const;

/** How a verb reports: `json` when --json was given. */
export interface Output {
  json: boolean;
}

/**
 * Says why and exits: 1 when something was refused or failed, 2 for usage errors. With --json the
 * error is JSON on stdout (`{"error", "problems", "code"?}`), otherwise text on stderr; either way input
 * echoed back has its control characters escaped, and Redis errors are redacted.
 */
export function fail(
  out: Output,
  message: string,
  problems: string[] = [],
  exitCode: number = ExitCode.failed,
  code?: string,
): never {
  const msg = redactText(message);
  const list = problems.map(redactText);
  if (out.json) {
    process.stdout.write(safeJson({ error: msg, problems: list, ...(code !== undefined ? { code } : {}) }) + '\n');
  } else {
    process.stderr.write(
      `tcss-rescan: ${escapeControlsKeepLines(msg)}\n${list.map((p) => `  - ${escapeControls(p)}\n`).join('')}`,
    );
  }
  process.exit(exitCode);
}

/**
 * Errors that reach the top: what went wrong in one redacted line (no stack, no command arguments),
 * as JSON on stdout with --json. Configuration problems exit 2 (usage), everything else 1.
 */
export function reportError(err: unknown, json: boolean): never {
  const out = { json };
  if (err instanceof ConfigError) fail(out, 'invalid configuration', err.problems, ExitCode.usage, err.code);
  if (err instanceof ValidationError)
    fail(out, 'refused: nothing was enqueued', err.problems, ExitCode.failed, 'INVALID_REQUEST');
  if (isRedisUnavailableError(err)) fail(out, err.message, [], ExitCode.failed, err.code);
  if (isIdempotencyConflictError(err)) fail(out, err.message, [], ExitCode.failed, err.code);
  // Unexpected: the stack helps a bug report (redacted; ioredis's command arguments are not in it).
  const text = err instanceof Error ? (json ? err.message : (err.stack ?? err.message)) : String(err);
  fail(out, text, [], ExitCode.failed);
}
