/**
 * How one environment variable's text becomes a value: the parsers the schema (schema.ts) is made of.
 * Each fails with one message "expected ..." whatever is wrong, and registers what it accepts in words,
 * for the configuration reference (reference.ts).
 */
import { z } from 'zod';
import { parseDurationMs } from '../duration';

/** What a parser accepts, in words (the reference's "Allowed" column). */
const accepts = z.registry<{ allowed: string }>();

/** Registers `allowed` as what `schema` accepts; returns the schema. */
function allowing<S extends z.ZodType>(schema: S, allowed: string): S {
  accepts.add(schema, { allowed });
  return schema;
}

/**
 * What a schema accepts, in words: registered by the parsers below (seen through `.default()` and
 * `.optional()`), or an enum's values. Undefined for anything else (the variable's entry says it).
 */
export function allowedOf(schema: z.ZodType): string | undefined {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  const registered = accepts.get(s)?.allowed;
  if (registered !== undefined) return registered;
  if (s instanceof z.ZodEnum) return `one of ${s.options.map((o) => `\`${String(o)}\``).join(', ')}`;
  return undefined;
}

/** The default of a `.default()` schema as the variable's text would give it; undefined without one. */
export function defaultOf(schema: z.ZodType): string | undefined {
  return schema instanceof z.ZodDefault ? String(schema.def.defaultValue) : undefined;
}

export const int = (min: number, max = Number.MAX_SAFE_INTEGER) => {
  const message = `expected a whole number from ${min} to ${max}`;
  // The regex admits only digits, so the number is whole; one message per variable, whatever is wrong.
  return allowing(
    z
      .string()
      .trim()
      .regex(/^-?\d+$/, { message })
      .transform(Number)
      .pipe(z.number().min(min, { message }).max(max, { message })),
    `whole number, ${min} to ${max}`,
  );
};

export const num = (min: number, max: number) =>
  allowing(
    z
      .string()
      .trim()
      .regex(/^-?\d+(\.\d+)?$/, { message: `expected a number from ${min} to ${max}` })
      .transform(Number)
      .pipe(
        z
          .number()
          .min(min, { message: `expected a number from ${min} to ${max}` })
          .max(max, { message: `expected a number from ${min} to ${max}` }),
      ),
    `number, ${min} to ${max}`,
  );

export const bool = allowing(
  z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(v), {
      message: 'expected true or false',
    })
    .transform((v) => ['1', 'true', 'yes', 'on'].includes(v)),
  '`true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`)',
);

export const duration = (minMs: number, maxMs: number) =>
  allowing(
    z
      .string()
      .trim()
      .refine(
        (v) => {
          const ms = parseDurationMs(v);
          return ms !== undefined && ms >= minMs && ms <= maxMs;
        },
        { message: `expected a duration from ${minMs / 1000}s to ${maxMs / 1000}s such as 60s, 15m or 2h` },
      )
      .transform((v) => parseDurationMs(v) as number),
    `duration, ${minMs / 1000}s to ${maxMs / 1000}s, such as \`60s\`, \`15m\` or \`2h\``,
  );

export const url = (protocols: string[]) =>
  allowing(
    z
      .string()
      .trim()
      .refine(
        (v) => {
          try {
            return protocols.includes(new URL(v).protocol);
          } catch {
            return false;
          }
        },
        { message: `expected a URL starting with ${protocols.map((p) => p + '//').join(' or ')}` },
      ),
    `URL starting with ${protocols.map((p) => `\`${p}//\``).join(' or ')}`,
  );

/** `host:port,host:port`: at least one, each port 1 to 65535. */
export const hostPorts = allowing(
  z
    .string()
    .trim()
    .refine(
      (v) =>
        v
          .split(',')
          .every(
            (hp) =>
              /^[A-Za-z0-9.-]+:\d{1,5}$/.test(hp.trim()) &&
              Number(hp.trim().split(':')[1]) >= 1 &&
              Number(hp.trim().split(':')[1]) <= 65_535,
          ),
      {
        message: 'expected host:port[,host:port...]',
      },
    )
    .transform((v) =>
      v.split(',').map((hp) => ({ host: hp.trim().split(':')[0]!, port: Number(hp.trim().split(':')[1]) })),
    ),
  '`host:port[,host:port...]`, ports 1 to 65535',
);

/** Text matching `pattern`; `expected` says what in words (the message is "expected <expected>"). */
export const matching = (pattern: RegExp, expected: string) =>
  allowing(
    z
      .string()
      .trim()
      .regex(pattern, { message: `expected ${expected}` }),
    expected,
  );
