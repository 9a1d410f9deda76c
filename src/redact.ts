/**
 * What an error may show when we log it or print it: never a command's arguments, never a password in
 * a URL. One place, used by the logger's `err` serializer (logger.ts) and the CLI's error printing.
 *
 * Why: ioredis attaches the failed command to its errors as `err.command = { name, args }`
 * (DataHandler.returnError, and the handshake errors of event_handler.ts), so a refused login carries
 * `hello ["3", "AUTH", "default", "<password>"]` or `auth ["<password>"]`; pino's standard `err`
 * serializer and Node's `util.inspect` print every enumerable property, so the password reached the
 * logs on every reconnect. Redis itself echoes arguments in some replies ("unknown command 'x', with
 * args beginning with: ...").
 */
import pino from 'pino';

/** A URL's userinfo password as `***`: `redis://user:***@host`. Works on text that is not a valid URL. */
export function maskUrlPasswords(text: string): string {
  // Userinfo runs from `scheme://` to the LAST `@` before the host (a password may hold `@`, `/` or
  // `:` when not percent-encoded); the host part after it holds no whitespace or quote.
  return text.replace(
    /\b([a-z][a-z0-9+.-]*:\/\/)([^\s"']*)@(?=[^\s"'@]*(?:[\s"']|$))/gi,
    (_m, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return colon === -1 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
    },
  );
}

/** Text with Redis's echo of arguments cut and URL passwords masked. */
export function redactText(text: string): string {
  return maskUrlPasswords(text).replace(/(with args beginning with:).*$/gim, '$1 [redacted]');
}

/** ioredis's `command` property, arguments dropped: the name and how many arguments there were. */
function redactCommand(command: unknown): unknown {
  if (command === null || typeof command !== 'object') return command;
  const c = command as { name?: unknown; args?: unknown };
  return { name: c.name, ...(Array.isArray(c.args) ? { args: `[${c.args.length} redacted]` } : {}) };
}

/** A plain copy of a serialized error (or anything) with every `command` redacted and texts cleaned. */
function scrub(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[redacted: too deep]';
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'raw') continue; // pino's back-reference to the original error
    out[k] = k === 'command' ? redactCommand(v) : v instanceof Error ? redactError(v) : scrub(v, depth + 1);
  }
  return out;
}

/** The logger's `err` serializer: pino's standard one, then redacted. */
export function redactError(err: unknown): unknown {
  if (!(err instanceof Error) && !(err !== null && typeof err === 'object' && 'message' in err)) {
    return typeof err === 'string' ? redactText(err) : err;
  }
  return scrub(pino.stdSerializers.err(err as Error));
}

/** One line for a person: the error's message (name for non-obvious types), redacted. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return redactText(err.message || err.name);
  if (err !== null && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string') {
    return redactText((err as { message: string }).message);
  }
  return redactText(String(err));
}
