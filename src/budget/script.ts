/**
 * A Lua script with named, typed keys and arguments, loaded once per connection (EVALSHA, EVAL on
 * NOSCRIPT), its reply checked by a parser instead of cast.
 *
 *   const acquire = defineScript({ name: 'acquire', keys: ['sends', 'state'], args: ['limit'], lua, parse });
 *   const reply = await acquire.run(redis, { sends: 'k1', state: 'k2' }, { limit: 20 });
 *
 * The Lua body reads its inputs by name: `K.sends`, `A.limit` (strings, as Redis passes them). The
 * tables are built from the same name lists the caller's types come from, so the order of KEYS and
 * ARGV cannot drift between TypeScript and Lua.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { errorMessage } from '../redact';

export interface ScriptDefinition<K extends string, A extends string, R> {
  /** For error messages. */
  name: string;
  keys: readonly K[];
  args: readonly A[];
  /** The body; `K.<key>` and `A.<arg>` are defined before it. */
  lua: string;
  /** Turns Redis's reply into the result, throwing on anything unexpected. */
  parse: (reply: unknown) => R;
}

export interface Script<K extends string, A extends string, R> {
  readonly name: string;
  /** The full source sent to Redis (prelude + body). */
  readonly source: string;
  run(redis: Redis, keys: Record<K, string>, args: Record<A, string | number>): Promise<R>;
}

function prelude(table: string, from: string, names: readonly string[]): string {
  for (const n of names)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))
      throw new Error(`script ${table} name ${JSON.stringify(n)} is not a Lua identifier`);
  return `local ${table} = {${names.map((n, i) => `${n} = ${from}[${i + 1}]`).join(', ')}}`;
}

export function defineScript<K extends string, A extends string, R>(def: ScriptDefinition<K, A, R>): Script<K, A, R> {
  const source = `${prelude('K', 'KEYS', def.keys)}\n${prelude('A', 'ARGV', def.args)}\n${def.lua}`;
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    name: def.name,
    source,
    async run(redis, keys, args) {
      const k = def.keys.map((n) => keys[n]);
      const a = def.args.map((n) => args[n]);
      let reply: unknown;
      try {
        reply = await redis.evalsha(sha, k.length, ...k, ...a);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        reply = await redis.eval(source, k.length, ...k, ...a);
      }
      try {
        return def.parse(reply);
      } catch (err) {
        throw new Error(`script ${def.name}: unexpected reply ${JSON.stringify(reply)}: ${errorMessage(err)}`, {
          cause: err,
        });
      }
    },
  };
}

/** Parsers for replies: a number (Redis returns integers as numbers and our floats as strings). */
export function replyNumber(reply: unknown): number {
  const n = typeof reply === 'number' ? reply : typeof reply === 'string' ? Number(reply) : NaN;
  if (!Number.isFinite(n)) throw new Error('expected a number');
  return n;
}

/** An array reply of numbers, of exactly `length` items. */
export function replyNumbers(reply: unknown, length: number): number[] {
  if (!Array.isArray(reply) || reply.length !== length) throw new Error(`expected an array of ${length}`);
  return reply.map(replyNumber);
}
