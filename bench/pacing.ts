/**
 * 1. Pacing with a backlog: ours and the alternatives a user would reach for, with 1, 2 and 4 worker
 * processes together, one call per job, against the simulator's sliding 1-second window by arrival.
 */
import { GUARD_FRESH_NARROW_MS } from '../src/budget';
import { BASELINES, type BaselineKind } from './baselineWorker';
import { timedRun, type Harness, type SectionResult, type TargetResult, type TimedRunResult } from './harness';
import { fixed, percent, ratio, table, type Cell } from './markdown';
import type { Implementation } from './workers';

interface Contender {
  label: string;
  impl: Implementation;
  processCounts: number[];
  ours?: 'default' | 'tuned';
}

export async function runPacing(h: Harness, progress: (line: string) => void): Promise<SectionResult> {
  const o = h.opts;
  const limit = o.rateLimit;
  const tunedEnv = {
    TCSS_COALESCE: 'false',
    TCSS_PACING_MARGIN_MS: String(o.tunedMarginMs),
    TCSS_WINDOW_GUARD_MS: String(o.tunedGuardMs),
  };
  const contenders: Contender[] = [
    {
      label: 'ours (defaults)',
      impl: { kind: 'ours', env: { TCSS_COALESCE: 'false' } },
      processCounts: o.pacingProcessCounts,
      ours: 'default',
    },
    {
      label: `ours, tuned (margin ${o.tunedMarginMs} ms, guard ${o.tunedGuardMs} ms)`,
      impl: { kind: 'ours', env: tunedEnv },
      processCounts: o.tunedProcessCounts,
      ours: 'tuned',
    },
    ...(Object.keys(BASELINES) as BaselineKind[]).map((b) => ({
      label: BASELINES[b],
      impl: { kind: 'baseline', baseline: b } as const,
      processCounts: o.pacingProcessCounts,
    })),
  ];

  const rows: Cell[][] = [];
  const targets: TargetResult[] = [];
  for (const n of o.pacingProcessCounts) {
    const results: { c: Contender; r: TimedRunResult }[] = [];
    for (const c of contenders.filter((x) => x.processCounts.includes(n))) {
      progress(`pacing: ${c.label}, ${n} process(es), ${o.pacingSeconds} s`);
      results.push({ c, r: await timedRun(h, c.impl, n, o.pacingSeconds) });
    }
    const ours = results.find((x) => x.c.ours === 'default')?.r.summary;
    for (const { c, r } of results) {
      const s = r.summary;
      rows.push([
        n,
        c.label,
        s.calls,
        s.accepted,
        s.throttled,
        fixed(s.callsPerSecond),
        fixed(s.acceptedPerSecond),
        percent(s.acceptedPerSecond / limit),
        ours ? ratio(s.acceptedPerSecond / ours.acceptedPerSecond) : '–',
        s.maxArrivalsInWindow,
        fixed(r.workerCpuMsPerCall, 2),
      ]);
      if (c.ours === 'default') {
        targets.push(
          {
            target: `pacing, ${n} process(es): ≥ 97.5% of the limit (${fixed(0.975 * limit, 1)} calls/s)`,
            measured: `${fixed(s.acceptedPerSecond)} calls/s (${percent(s.acceptedPerSecond / limit)})`,
            met: s.acceptedPerSecond >= 0.975 * limit,
          },
          {
            target: `pacing, ${n} process(es): never more than ${limit} in any 1000 ms`,
            measured: `at most ${s.maxArrivalsInWindow}`,
            met: s.maxArrivalsInWindow <= limit,
          },
          {
            target: `pacing, ${n} process(es): zero RequestLimitExceeded`,
            measured: `${s.throttled}`,
            met: s.throttled === 0,
          },
        );
      }
    }
  }

  const d = h.defaults.tcss;
  // The controller's formula (src/budget/adaptiveRate.ts), at the start of a run: rate = limit, guard = TCSS_WINDOW_GUARD_MS.
  const spacing = (1000 + d.windowGuardMs) / limit + d.pacingMarginMs;
  const spacingCap = 1000 / spacing;
  const body = [
    `Each run: ${o.pacingSeconds} s with a backlog (more jobs than the fastest alternative can take), then the workers are killed. ` +
      `One call per job (TCSS_COALESCE=false), every process with WORKER_CONCURRENCY=${h.defaults.workerConcurrency} (our default), simulator latency ${o.simLatencyMs} ms, ` +
      `refused arrivals counted toward the window. Rates are over the busy period (first to last arrival); "most in any 1000 ms" counts every arrival of the run's calls, throttled included. ` +
      `"÷ ours" is accepted calls/s against ours with defaults at the same process count. Worker CPU is utime + stime of all worker processes from ready to the end, divided by the calls.`,
    '',
    table(
      [
        'processes',
        'implementation',
        'calls',
        'accepted',
        'throttled',
        'calls/s',
        'accepted/s',
        'of limit',
        '÷ ours',
        'most in any 1000 ms',
        'worker CPU ms/call',
      ],
      rows,
    ),
    '',
    `With the defaults, a run starts with calls ${fixed(spacing)} ms apart ((1000 + TCSS_WINDOW_GUARD_MS ${d.windowGuardMs}) / ${limit} + TCSS_PACING_MARGIN_MS ${d.pacingMarginMs}), at most ${fixed(spacingCap)} calls/s ` +
      `(${percent(spacingCap / limit)} of the limit); while no call is refused the controller narrows the guard by ${GUARD_FRESH_NARROW_MS} ms a second, so longer runs go faster (section 5).` +
      (o.tunedProcessCounts.length > 0 ? ' The "tuned" rows start with a narrower guard.' : ''),
  ].join('\n');
  return { title: '1. Pacing with a backlog: ours against the alternatives', body, targets };
}
