/** Markdown tables and number formatting for the benchmark's output. */

export type Cell = string | number;

/** A GitHub-flavoured Markdown table; numbers are right-aligned, text left-aligned. */
export function table(headers: string[], rows: Cell[][]): string {
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || /^(–|[-+]?\d)/.test(String(r[i] ?? ''))),
  );
  const text = rows.map((r) => headers.map((_, i) => String(r[i] ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, 3, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(headers), rule, ...text.map(line)].join('\n');
}

/** A number with `digits` decimals (no thousands separators: these go into tables). */
export function fixed(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–';
}

/** A whole number with thousands separators. */
export function count(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}

export function ratio(n: number, digits = 2): string {
  return Number.isFinite(n) ? `${n.toFixed(digits)}×` : '–';
}

export function percent(n: number, digits = 1): string {
  return Number.isFinite(n) ? `${(n * 100).toFixed(digits)}%` : '–';
}

export function mib(bytes: number, digits = 1): string {
  return Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(digits)} MiB` : '–';
}

export function yesNo(met: boolean): string {
  return met ? 'yes' : '**no**';
}
