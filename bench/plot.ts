/**
 * ASCII plots of a run: accepted calls per second over time, one column per second, so a reader can
 * see the controller settle. Seconds are counted from the run's first arrival (the simulator's clock).
 */
import type { SimulatorCall } from '../src/simulator';
import { THROTTLED } from './measure';

export interface PerSecond {
  accepted: number[];
  throttled: number[];
}

/** Accepted and throttled arrivals in each whole second from the first arrival. */
export function perSecond(calls: readonly SimulatorCall[]): PerSecond {
  const first = Math.min(...calls.map((c) => c.arrivalMs));
  const last = Math.max(...calls.map((c) => c.arrivalMs));
  const n = Math.max(1, Math.floor((last - first) / 1000) + 1);
  const accepted = Array<number>(n).fill(0);
  const throttled = Array<number>(n).fill(0);
  for (const c of calls) {
    const i = Math.min(n - 1, Math.floor((c.arrivalMs - first) / 1000));
    if (c.code === 'OK') accepted[i]!++;
    else if (c.code === THROTTLED) throttled[i]!++;
  }
  return { accepted, throttled };
}

/**
 * Rows from `top` calls/s down to `bottom`; a `#` where the second's accepted calls reach the row, the
 * row of `line` (the limit, or what another consumer leaves) drawn with `-` where no bar reaches it;
 * underneath, the throttled calls of each second (`.` for none, a digit, `+` for ten or more), and a
 * time axis. The last, partial second is left out.
 */
export function plotPerSecond(
  calls: readonly SimulatorCall[],
  o: { top: number; bottom: number; line: number; label: string },
): string {
  const s = perSecond(calls);
  const n = Math.max(1, s.accepted.length - 1);
  const acc = s.accepted.slice(0, n);
  const thr = s.throttled.slice(0, n);
  const rows: string[] = [];
  for (let y = o.top; y >= o.bottom; y--) {
    const cells = acc.map((a) => (a >= y ? '#' : y === Math.round(o.line) ? '-' : ' ')).join('');
    rows.push(`${String(y).padStart(3)} |${cells}`);
  }
  rows.push(`    +${'-'.repeat(n)}`);
  rows.push(`thr  ${thr.map((t) => (t === 0 ? '.' : t >= 10 ? '+' : String(t))).join('')}`);
  let axis = '';
  for (let i = 0; i < n; i += 10) axis += `${i}s`.padEnd(10);
  rows.push(`     ${axis.slice(0, n + 4)}`);
  return [
    `${o.label} (accepted calls per second; rows below ${o.bottom} cut off; \`thr\`: throttled calls in that second)`,
    '',
    '```',
    ...rows,
    '```',
  ].join('\n');
}
