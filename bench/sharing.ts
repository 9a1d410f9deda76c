/**
 * 2. Sharing the budget with another consumer of the same key (the simulator's background consumer):
 * ours with and without the adaptive rate, against both ways the server may count refused calls.
 */
import { timedRun, type Harness, type SectionResult, type TargetResult } from './harness';
import { fixed, percent, table, type Cell } from './markdown';
import { plotPerSecond } from './plot';

interface Variant {
  label: string;
  env: Record<string, string>;
  /** The configuration the targets are judged on. */
  judged: boolean;
}

export async function runSharing(h: Harness, progress: (line: string) => void): Promise<SectionResult> {
  const o = h.opts;
  const left = o.rateLimit - o.backgroundRps;
  const variants: Variant[] = [
    { label: 'on', env: { TCSS_ADAPTIVE_RATE: 'true' }, judged: true },
    { label: 'off', env: { TCSS_ADAPTIVE_RATE: 'false' }, judged: false },
  ];
  const rows: Cell[][] = [];
  const targets: TargetResult[] = [];
  const plots: string[] = [];
  for (const countThrottled of [false, true]) {
    const mode = countThrottled ? 'refused calls count' : 'refused calls do not count';
    for (const v of variants) {
      progress(`sharing: ${mode}, adaptation ${v.label}, ${o.sharingProcesses} processes, ${o.sharingSeconds} s`);
      const r = await timedRun(
        h,
        { kind: 'ours', env: { TCSS_COALESCE: 'false', ...v.env } },
        o.sharingProcesses,
        o.sharingSeconds,
        {
          backgroundRps: o.backgroundRps,
          countThrottled,
        },
      );
      const s = r.summary;
      const share = s.calls > 0 ? s.throttled / s.calls : 0;
      const shareLate = s.callsLateHalf > 0 ? s.throttledLateHalf / s.callsLateHalf : 0;
      const bg = r.stats.background;
      rows.push([
        mode,
        v.label,
        s.calls,
        s.accepted,
        s.throttled,
        percent(share),
        percent(shareLate),
        fixed(s.acceptedPerSecond),
        fixed(s.acceptedPerSecondLateHalf),
        percent(s.acceptedPerSecond / left),
        r.budgetRateAtEnd !== undefined ? fixed(r.budgetRateAtEnd) : '–',
        `${bg.admitted} / ${bg.throttled}`,
        r.stats.maxInAnyWindowWithBackground,
      ]);
      if (v.judged && countThrottled) {
        plots.push(
          plotPerSecond(r.calls, {
            top: left + 5,
            bottom: left - 5,
            line: left,
            label: `Beside a ${o.backgroundRps} req/s consumer, ${mode}, ${o.sharingProcesses} processes (the \`-\` row: the ${left}/s it leaves)`,
          }),
        );
      }
      if (v.judged) {
        targets.push(
          {
            target: `sharing (${mode}): throttled < 2% of our calls`,
            measured: `${s.throttled} of ${s.calls} (${percent(share)}); ${percent(shareLate)} in the second half`,
            met: share < 0.02,
          },
          {
            target: `sharing (${mode}): accepted ≥ 90% of (limit − ${o.backgroundRps}) = ${fixed(0.9 * left, 1)}/s`,
            measured: `${fixed(s.acceptedPerSecond)}/s (${percent(s.acceptedPerSecond / left)}); ${fixed(s.acceptedPerSecondLateHalf)}/s in the second half`,
            met: s.acceptedPerSecond >= 0.9 * left,
          },
        );
      }
    }
  }
  const body = [
    `Another consumer of the same key spends ${o.backgroundRps} req/s (evenly spaced simulator arrivals, limited like ours), leaving ${left} req/s. ` +
      `${o.sharingProcesses} worker processes of ours, one call per job, ${o.sharingSeconds} s with a backlog each; every run starts at the full rate, as a fresh cluster does, ` +
      `so its first second is throttled whatever the adaptation does (the budget cannot see the other consumer until the API refuses a call): the "2nd half" columns show the rest. ` +
      `"adaptation" is TCSS_ADAPTIVE_RATE (the targets are judged on "on" with defaults). "of what is left" is accepted/s ÷ ${left}. "rate at end" is the shared budget's rate in Redis when the run ended. ` +
      `"other consumer" is its admitted / refused arrivals during the run: what we cost it. The last column counts admitted arrivals, ours and the other consumer's.`,
    '',
    table(
      [
        'simulator',
        'adaptation',
        'our calls',
        'accepted',
        'throttled',
        'throttled %',
        'throttled %, 2nd half',
        'accepted/s',
        'accepted/s, 2nd half',
        'of what is left',
        'rate at end',
        'other consumer ok / refused',
        'most admitted in any 1000 ms',
      ],
      rows,
    ),
    '',
    `On a throttle, the controller counts our sends in the second before the refused call left (src/budget/adaptiveRate.ts): fewer than the limit means another consumer, and the rate is set at once to what the count says is left (sent − 1); then it probes up slowly near the rate that was refused.`,
    '',
    ...plots,
  ].join('\n');
  return { title: `2. Sharing the budget with another consumer (${o.backgroundRps} req/s)`, body, targets };
}
