/**
 * A strict JSON parser (RFC 8259) that keeps every number's literal text, so the simulator can tell
 * `9007199254740993` or `1.0` from an exact integer instead of seeing what `JSON.parse` rounded it to
 * (the official SDK writes big integers with json-bigint). Objects become Maps, so keys such as
 * `__proto__` are just keys. Shared by the simulator (request parameters) and the HTTP API (request
 * bodies, src/server/exactBody.ts).
 */

export class JsonNumber {
  constructor(readonly raw: string) {}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | Map<string, JsonValue>;

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const MAX_DEPTH = 64;

export interface ExactJsonOptions {
  /** Refuse an object that names a key twice (RFC 8259 leaves the meaning open). Default false. */
  rejectDuplicateKeys?: boolean;
  /** Deepest nesting of arrays and objects accepted. Default 64. */
  maxDepth?: number;
}

/**
 * One function of about 135 lines on purpose: a recursive-descent parser whose small readers (value,
 * string, number, array, object) share the cursor `pos` as a closure variable. Split into a class or
 * separate functions, every read would go through a property or a parameter; keeping them together
 * keeps the grammar readable in one place, in the order of RFC 8259.
 */
// eslint-disable-next-line max-lines-per-function -- one recursive-descent parser sharing its cursor (above)
export function parseExactJson(text: string, options: ExactJsonOptions = {}): JsonValue {
  let pos = 0;
  const maxDepth = options.maxDepth ?? MAX_DEPTH;

  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at position ${pos}`);
  };
  const skipWhitespace = (): void => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      pos++;
    }
  };
  const expectLiteral = (literal: string): void => {
    if (!text.startsWith(literal, pos)) fail('invalid literal');
    pos += literal.length;
  };

  const parseString = (): string => {
    pos++; // opening quote
    let out = '';
    for (;;) {
      // Copy a run of plain characters at once (most strings have no escapes).
      const start = pos;
      let code = text.charCodeAt(pos);
      while (code !== 0x22 && code !== 0x5c && code >= 0x20) code = text.charCodeAt(++pos);
      if (pos > start) out += text.slice(start, pos);
      if (pos >= text.length) fail('unterminated string');
      if (code === 0x22) {
        pos++;
        return out;
      }
      if (code < 0x20) fail('control character in string');
      const esc = text.charAt(pos + 1);
      pos += 2;
      switch (esc) {
        case '"':
        case '\\':
        case '/':
          out += esc;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = text.slice(pos, pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid unicode escape');
          out += String.fromCharCode(parseInt(hex, 16));
          pos += 4;
          break;
        }
        default:
          fail('invalid escape');
      }
    }
  };

  const parseValue = (depth: number): JsonValue => {
    if (depth > maxDepth) fail('nesting too deep');
    skipWhitespace();
    const c = text.charAt(pos);
    if (c === '{') {
      pos++;
      const obj = new Map<string, JsonValue>();
      skipWhitespace();
      if (text.charAt(pos) === '}') {
        pos++;
        return obj;
      }
      for (;;) {
        skipWhitespace();
        if (text.charAt(pos) !== '"') fail('expected a key');
        const keyAt = pos;
        const key = parseString();
        if (options.rejectDuplicateKeys && obj.has(key)) {
          pos = keyAt;
          fail(`duplicate key ${JSON.stringify(key.length > 60 ? `${key.slice(0, 57)}...` : key)}`);
        }
        skipWhitespace();
        if (text.charAt(pos) !== ':') fail("expected ':'");
        pos++;
        obj.set(key, parseValue(depth + 1));
        skipWhitespace();
        const sep = text.charAt(pos++);
        if (sep === '}') return obj;
        if (sep !== ',') fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      pos++;
      const arr: JsonValue[] = [];
      skipWhitespace();
      if (text.charAt(pos) === ']') {
        pos++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(depth + 1));
        skipWhitespace();
        const sep = text.charAt(pos++);
        if (sep === ']') return arr;
        if (sep !== ',') fail("expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    if (c === 't' || c === 'f' || c === 'n') {
      const literal = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
      expectLiteral(literal);
      return literal === 'null' ? null : literal === 'true';
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(text);
    if (m === null) return fail('unexpected character');
    pos += m[0].length;
    return new JsonNumber(m[0]);
  };

  const value = parseValue(0);
  skipWhitespace();
  if (pos !== text.length) fail('unexpected trailing characters');
  return value;
}
