/**
 * Parsers for flag values: each refuses a bad value with a message naming the flag, what it expects
 * and what it got (commander turns that into a usage error, exit 2).
 */
import { InvalidArgumentError } from 'commander';
import { parseDurationMs } from '../duration';
import { escapeControls } from '../terminalText';

/** A decimal id as a number (unsafe values stay numbers and are refused by validation); other text as is. */
export function idArg(text: string): unknown {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : t;
}

export function positiveInt(name: string, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    if (!/^\d+$/.test(v.trim()) || Number(v) < 1 || Number(v) > max) {
      const range =
        max === Number.MAX_SAFE_INTEGER
          ? 'a positive whole number'
          : `a whole number from 1 to ${max.toLocaleString('en-US')}`;
      throw new InvalidArgumentError(`${name} must be ${range}, got ${escapeControls(JSON.stringify(v))}`);
    }
    return Number(v);
  };
}

export function fraction(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
      throw new InvalidArgumentError(`${name} must be a number from 0 to 1, got ${JSON.stringify(v)}`);
    return n;
  };
}

export function durationMs(name: string) {
  return (v: string): number => {
    const ms = parseDurationMs(v);
    if (ms === undefined || ms < 1000)
      throw new InvalidArgumentError(
        `${name} must be a duration of 1s or more such as 60s or 15m, got ${JSON.stringify(v)}`,
      );
    return ms;
  };
}

export function nonNegative(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a number from 0 up, got ${JSON.stringify(v)}`);
    return n;
  };
}

/** A comma-separated list of positive whole numbers (ids), for the simulator's missing-resource flags. */
export function idList(flag: string): (v: string) => number[] {
  return (v) => {
    const ids = v
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
    const bad = ids.filter((x) => !/^[1-9]\d*$/.test(x) || !Number.isSafeInteger(Number(x)));
    if (bad.length > 0)
      throw new InvalidArgumentError(
        `${flag} expects comma-separated ids (positive whole numbers), got ${JSON.stringify(bad[0])}`,
      );
    return ids.map(Number);
  };
}
