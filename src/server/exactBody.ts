/**
 * JSON request bodies, parsed exactly (src/exactJson.ts) instead of with `JSON.parse`, which rounds
 * `1.0000000000000001` to 1 and `4503599627370496.5` to 4503599627370496: a client would enqueue a
 * rescan of an id it never named. Here every number literal is checked against its own text:
 *
 * - a literal whose exact value is a whole number no larger than 2^53-1 in magnitude becomes that number
 *   (`7`, `7.0`, `7e0` are all 7);
 * - a literal that only looks whole after rounding (`1.0000000000000001`, `9007199254740993`) becomes
 *   an {@link InexactNumber} and is reported as a problem by path: it is never silently another id;
 * - anything else (`1.5`, `1e400`) becomes the nearest JS number, which the contract refuses anyway.
 *
 * An object that names a key twice is refused (which one would win is up to the parser). Objects get
 * their keys as own properties, `__proto__` included, so the contract's validation names it as an
 * unknown field rather than it touching a prototype.
 */
import type { FastifyInstance } from 'fastify';
import { JsonNumber, JsonSyntaxError, parseExactJson, type JsonValue } from '../exactJson';
import { ValidationError } from '../job';
import { validateAll } from '../producer';
import { formatPath } from '../problems';

/** A number literal that JS would round to a different whole number; never equal to any id. */
export class InexactNumber {
  constructor(
    readonly raw: string,
    /** Where it stands in the body, e.g. `[2].assetIds[0]`. */
    readonly path: string,
  ) {}
  toJSON(): string {
    return this.raw;
  }
}

/** What a parsed body holds besides its value: the inexact numbers found, in order. */
export interface ExactBody {
  value: unknown;
  inexact: InexactNumber[];
}

const bodies = new WeakMap<object, InexactNumber[]>();

/** The inexact numbers of a body parsed by {@link registerExactJsonParser} (none for other bodies). */
export function inexactNumbersOf(body: unknown): InexactNumber[] {
  return typeof body === 'object' && body !== null ? (bodies.get(body) ?? []) : [];
}

/** The exact whole-number value of a JSON number literal, or undefined when it is not one. */
export function exactInteger(raw: string): bigint | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(raw);
  if (!m) return undefined;
  const [, sign, int, frac = '', expText = '0'] = m;
  const exp = Number(expText);
  // Digits and where the decimal point falls after the exponent; huge exponents are never safe ids.
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 400) return /^0*$/.test(int! + frac) ? 0n : undefined;
  const digits = int! + frac;
  const point = int!.length + exp; // how many of `digits` stand before the decimal point
  if (point <= 0) return /^0*$/.test(digits) ? 0n : undefined;
  const whole = digits.slice(0, point).padEnd(point, '0');
  if (!/^0*$/.test(digits.slice(point))) return undefined;
  const n = BigInt(whole);
  return sign === '-' ? -n : n;
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Turns a parsed value into plain JS, numbers converted as described above. */
export function toPlain(value: JsonValue, inexact: InexactNumber[] = []): ExactBody {
  // The path to the current value, as segments; joined only when an inexact number is found.
  const path: (string | number)[] = [];
  const convert = (v: JsonValue): unknown => {
    if (v instanceof JsonNumber) {
      // Up to 15 digits, no fraction or exponent: always exact (the common case, kept cheap).
      if (SIMPLE_INTEGER.test(v.raw)) return Number(v.raw);
      const whole = exactInteger(v.raw);
      if (whole !== undefined && whole <= MAX && whole >= -MAX) return Number(whole);
      const approx = Number(v.raw);
      if (Number.isInteger(approx)) {
        const n = new InexactNumber(v.raw, formatPath(path));
        inexact.push(n);
        return n;
      }
      return approx;
    }
    if (Array.isArray(v)) {
      const out = new Array<unknown>(v.length);
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        out[i] = convert(v[i]!);
        path.pop();
      }
      return out;
    }
    if (v instanceof Map) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of v) {
        path.push(k);
        const converted = convert(x);
        path.pop();
        if (k === '__proto__')
          Object.defineProperty(out, k, { value: converted, enumerable: true, writable: true, configurable: true });
        else out[k] = converted;
      }
      return out;
    }
    return v;
  };
  return { value: convert(value), inexact };
}

const SIMPLE_INTEGER = /^-?\d{1,15}$/;

/**
 * Parses a JSON body exactly. The common body (whole numbers of up to 15 digits, no key named twice)
 * means the same to `JSON.parse`, which is native and about twenty times faster than the exact parser:
 * such bodies take that path, checked by one regular-expression pass over the text. Anything else
 * (other number literals, a repeated key, invalid or very deep JSON) goes through the exact parser, which
 * also words the errors. Fast matters: parsing runs on the event loop that answers /healthz.
 */
export function parseJsonBody(text: string): ExactBody {
  let fast: unknown;
  let valid = true;
  try {
    fast = JSON.parse(text);
  } catch {
    valid = false;
  }
  if (valid) {
    const scan = scanLiterals(text);
    if (scan.simpleNumbers && countKeys(fast, 0) === scan.keys) return { value: fast, inexact: [] };
  }
  return toPlain(parseExactJson(text, { rejectDuplicateKeys: true, maxDepth: MAX_BODY_DEPTH }));
}

/** Strings (keys: those followed by ':') and number literals, in one pass; digits in strings are skipped with them. */
const LITERAL = /"(?:[^"\\]|\\.)*"(\s*:)?|-?\d[\d.eE+-]*/g;

function scanLiterals(text: string): { keys: number; simpleNumbers: boolean } {
  let keys = 0;
  let simpleNumbers = true;
  LITERAL.lastIndex = 0;
  for (let m = LITERAL.exec(text); m !== null; m = LITERAL.exec(text)) {
    if (m[0].charCodeAt(0) === 0x22) {
      if (m[1] !== undefined) keys++;
    } else if (!SIMPLE_INTEGER.test(m[0])) {
      simpleNumbers = false;
      break;
    }
  }
  return { keys, simpleNumbers };
}

/** Own keys of every object in a JSON.parse result; -1 past the exact parser's depth (let it refuse). */
function countKeys(v: unknown, depth: number): number {
  if (typeof v !== 'object' || v === null) return 0;
  if (depth > MAX_BODY_DEPTH) return -1;
  let n = 0;
  if (Array.isArray(v)) {
    for (const x of v) {
      const k = countKeys(x, depth + 1);
      if (k < 0) return -1;
      n += k;
    }
    return n;
  }
  for (const key of Object.keys(v)) {
    const k = countKeys((v as Record<string, unknown>)[key], depth + 1);
    if (k < 0) return -1;
    n += k + 1;
  }
  return n;
}

/**
 * Deepest nesting in a body: deep enough that validation, not parsing, names a deeply nested unknown
 * field; shallow enough for the recursive walks here (JSON.parse itself would take far more).
 */
export const MAX_BODY_DEPTH = 2048;

/** Replaces Fastify's `application/json` parser with the exact one (400 INVALID_JSON with where). */
export function registerExactJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    let parsed: ExactBody;
    try {
      parsed = parseJsonBody(body as string);
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) return done(err as Error, undefined);
      return done(
        Object.assign(new Error(`the body is not valid JSON: ${err.message}`), {
          statusCode: 400,
          code: 'INVALID_JSON',
        }),
        undefined,
      );
    }
    const { value, inexact } = parsed;
    if (inexact.length > 0 && typeof value === 'object' && value !== null) bodies.set(value, inexact);
    done(null, value);
  });
}

/**
 * Every problem of a rescan body that holds inexact numbers: those numbers, by path and as written, then
 * what the contract finds wrong with the rest (its lines about the inexact values themselves left out).
 * Empty when every number is exact.
 */
export function inexactProblems(body: unknown): string[] {
  const list = inexactNumbersOf(body);
  if (list.length === 0) return [];
  const own = describeInexact(body, list);
  try {
    validateAll(Array.isArray(body) ? body : [body]);
    return own;
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    // The contract shows an inexact value as its text in quotes (InexactNumber.toJSON).
    const shown = list.map((n) => JSON.stringify(n.raw).slice(0, 20));
    return [...own, ...err.problems.filter((p) => !shown.some((q) => p.includes(q)))];
  }
}

function describeInexact(body: unknown, list: InexactNumber[]): string[] {
  const isArray = Array.isArray(body);
  return list.map((n) => {
    const m = isArray ? /^\[(\d+)\]\.?(.*)$/.exec(n.path) : null;
    const label = m ? `#${Number(m[1]) + 1}: ` : '';
    const field = m ? m[2] : n.path;
    const raw = n.raw.length > 40 ? `${n.raw.slice(0, 37)}...` : n.raw;
    return `${label}${field ? `${field}: ` : ''}${raw} is not exactly a whole number no larger than 2^53-1 (it would be read as ${String(Number(n.raw))}); write ids exactly`;
  });
}
