/**
 * How we report bad input, written once: an error that carries every problem found (each naming its
 * field), and the two formatters its messages use to quote a received value and to name a field's
 * path. The job contract, the configuration, the schedules file and the simulator's options all
 * refuse input this way, so a caller branches on `problems` whatever was refused.
 */

/** Refused input: `problems` lists every problem found, one line each, naming its field. */
export class ProblemsError extends Error {
  constructor(
    readonly problems: string[],
    message: string,
  ) {
    super(message);
  }
}

/**
 * A received value as a problem quotes it: JSON, cut to `max` characters (a hostile value can be
 * huge), `nothing` for a missing one; numbers JSON cannot write (NaN, Infinity) and bigints as
 * themselves, anything else unquotable by its type.
 */
export function quoteValue(v: unknown, max = 60): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    text = undefined; // a cycle, or a bigint deeper inside
  }
  if (text === undefined) return `(a ${typeof v})`;
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** A field's path as a problem names it: `requests[2].assetIds[0]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
}
