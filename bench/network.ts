/**
 * 5–7. Pacing over a real network (issue 9): a long run without jitter (does the guard narrow?), runs
 * with arrival jitter (does it widen, and only as far as needed?), fresh processes starting together
 * (do their first calls leave on time?), and kill -9 of one of two workers (how soon are its jobs
 * done?). The simulator counts refused arrivals toward the window in every run here.
 */
import { GUARD_FRESH_NARROW_MS, GUARD_NARROW_MS, GUARD_SLOW_NARROW_MS } from '../src/budget';
import { BASELINES } from './baselineWorker';
import type { Child } from './children';
import {
  enqueueSingles,
  freshRun,
  timedRun,
  type Harness,
  type SectionResult,
  type TargetResult,
  type TimedRunResult,
} from './harness';
import { fixed, percent, table, type Cell } from './markdown';
import { THROTTLED } from './measure';
import { plotPerSecond } from './plot';
import type { SimulatorCall } from '../src/simulator';
import { sleep, startWorkers, type Implementation } from './workers';

const ONE_CALL_PER_JOB = { TCSS_COALESCE: 'false' };

interface Window {
  calls: number;
  accepted: number;
  throttled: number;
  acceptedPerSecond: number;
}

/** Calls arriving in [from, to) ms after the run's first arrival (to = Infinity: to the last). */
function windowOf(calls: readonly SimulatorCall[], fromMs: number, toMs = Infinity): Window {
  const first = Math.min(...calls.map((c) => c.arrivalMs));
  const last = Math.max(...calls.map((c) => c.arrivalMs));
  const end = Math.min(toMs, last - first);
  const inside = calls.filter(
    (c) => c.arrivalMs - first >= fromMs && c.arrivalMs - first < (Number.isFinite(toMs) ? toMs : Infinity),
  );
  const accepted = inside.filter((c) => c.code === 'OK').length;
  return {
    calls: inside.length,
    accepted,
    throttled: inside.filter((c) => c.code === THROTTLED).length,
    acceptedPerSecond: end > fromMs ? (accepted * 1000) / (end - fromMs) : 0,
  };
}

function ourRow(n: number, label: string, r: TimedRunResult, limit: number, tail?: Window): Cell[] {
  const s = r.summary;
  return [
    n,
    label,
    s.calls,
    s.throttled,
    percent(s.calls > 0 ? s.throttled / s.calls : 0, 2),
    fixed(s.acceptedPerSecond),
    percent(s.acceptedPerSecond / limit),
    tail ? `${fixed(tail.acceptedPerSecond)} (${percent(tail.acceptedPerSecond / limit)})` : '–',
    s.maxArrivalsInWindow,
    r.budgetGuardAtEnd !== undefined ? fixed(r.budgetGuardAtEnd, 1) : '–',
    r.budgetRateAtEnd !== undefined ? fixed(r.budgetRateAtEnd) : '–',
    r.falseStalls,
  ];
}

const HEADERS = [
  'processes',
  'implementation',
  'calls',
  'throttled',
  'throttled %',
  'accepted/s',
  'of limit',
  'accepted/s, judged tail',
  'most in any 1000 ms',
  'guard at end (ms)',
  'rate at end',
  'false stalls',
];

export async function runNetwork(h: Harness, progress: (line: string) => void): Promise<SectionResult> {
  const o = h.opts;
  const limit = o.rateLimit;
  const targets: TargetResult[] = [];
  const longRows: Cell[][] = [];
  const jitterRows: Cell[][] = [];
  const plots: string[] = [];

  for (const n of o.networkProcessCounts) {
    progress(`network: no jitter, ${n} processes, ${o.longSeconds} s`);
    const r = await timedRun(h, { kind: 'ours', env: ONE_CALL_PER_JOB }, n, o.longSeconds, { countThrottled: true });
    const tail = windowOf(r.calls, (o.longSeconds - o.longTailSeconds) * 1000);
    const s = r.summary;
    longRows.push(ourRow(n, 'ours (defaults)', r, limit, tail));
    targets.push(
      {
        target: `no jitter, ${o.longSeconds} s, ${n} processes: ≥ 99% of the limit over the last ${o.longTailSeconds} s`,
        measured: `${fixed(tail.acceptedPerSecond)} calls/s (${percent(tail.acceptedPerSecond / limit)}); guard at end ${fixed(r.budgetGuardAtEnd ?? NaN, 1)} ms`,
        met: tail.acceptedPerSecond >= 0.99 * limit,
      },
      {
        target: `no jitter, ${o.longSeconds} s, ${n} processes: ≤ 0.5% throttled over the run`,
        measured: `${s.throttled} of ${s.calls} (${percent(s.calls > 0 ? s.throttled / s.calls : 0, 2)})`,
        met: s.throttled <= 0.005 * s.calls,
      },
    );
    if (n === o.networkProcessCounts[0])
      plots.push(
        plotPerSecond(r.calls, { top: limit, bottom: limit - 6, line: limit, label: `No jitter, ${n} processes` }),
      );
  }

  for (const n of o.networkProcessCounts) {
    progress(`network: 0–${o.jitterMs} ms arrival jitter, ${n} processes, ${o.jitterSeconds} s`);
    const r = await timedRun(h, { kind: 'ours', env: ONE_CALL_PER_JOB }, n, o.jitterSeconds, {
      countThrottled: true,
      arrivalJitterMs: o.jitterMs,
    });
    const s = r.summary;
    const tail = windowOf(r.calls, (o.jitterSeconds / 3) * 1000);
    jitterRows.push(ourRow(n, 'ours (defaults)', r, limit, tail));
    targets.push(
      {
        target: `0–${o.jitterMs} ms jitter, ${n} processes: ≥ 95% of the limit`,
        measured: `${fixed(s.acceptedPerSecond)} calls/s (${percent(s.acceptedPerSecond / limit)}); after the first third ${fixed(tail.acceptedPerSecond)} (${percent(tail.acceptedPerSecond / limit)})`,
        met: s.acceptedPerSecond >= 0.95 * limit,
      },
      {
        target: `0–${o.jitterMs} ms jitter, ${n} processes: ≤ 0.5% throttled`,
        measured: `${s.throttled} of ${s.calls} (${percent(s.calls > 0 ? s.throttled / s.calls : 0, 2)}); guard at end ${fixed(r.budgetGuardAtEnd ?? NaN, 1)} ms`,
        met: s.throttled <= 0.005 * s.calls,
      },
    );
    plots.push(
      plotPerSecond(r.calls, {
        top: limit,
        bottom: limit - 6,
        line: limit,
        label: `0–${o.jitterMs} ms arrival jitter, ${n} processes`,
      }),
    );
  }

  const n0 = o.networkProcessCounts[0] ?? 2;
  const theory = (g: number) => (limit * 1000) / (1000 + g);
  // Uniform 0–J ms arrival delays: P(refused) per call at a guard (see the text below), and what is
  // accepted when refused calls take slots too. The best fixed guard is what knowing the jitter buys.
  const refusedShare = (g: number) => (g >= o.jitterMs ? 0 : ((o.jitterMs - g) / o.jitterMs) ** 2 / 2);
  const accepted = (g: number) => (1 - refusedShare(g)) * theory(g);
  let bestGuard = 0;
  for (let g = 0; g <= o.jitterMs; g += 0.5) if (accepted(g) > accepted(bestGuard)) bestGuard = g;
  const alternatives: { label: string; impl: Implementation }[] = [
    {
      label: 'ours, controller off (guard fixed at 25 ms)',
      impl: { kind: 'ours', env: { ...ONE_CALL_PER_JOB, TCSS_ADAPTIVE_RATE: 'false' } },
    },
    {
      label: `ours, controller off, guard fixed at ${o.jitterMs} ms`,
      impl: {
        kind: 'ours',
        env: { ...ONE_CALL_PER_JOB, TCSS_ADAPTIVE_RATE: 'false', TCSS_WINDOW_GUARD_MS: String(o.jitterMs) },
      },
    },
    {
      label: `ours, controller off, guard fixed at ${bestGuard} ms (the best for this jitter)`,
      impl: {
        kind: 'ours',
        env: { ...ONE_CALL_PER_JOB, TCSS_ADAPTIVE_RATE: 'false', TCSS_WINDOW_GUARD_MS: String(bestGuard) },
      },
    },
    { label: BASELINES['bottleneck-redis'], impl: { kind: 'baseline', baseline: 'bottleneck-redis' } },
    { label: BASELINES['bullmq-1/50ms'], impl: { kind: 'baseline', baseline: 'bullmq-1/50ms' } },
  ];
  for (const a of alternatives) {
    progress(`network: jitter, ${a.label}, ${n0} processes, ${o.jitterAltSeconds} s`);
    const r = await timedRun(h, a.impl, n0, o.jitterAltSeconds, { countThrottled: true, arrivalJitterMs: o.jitterMs });
    jitterRows.push(ourRow(n0, a.label, r, limit));
  }

  const body = [
    `One call per job (TCSS_COALESCE=false), a backlog, the simulator counting refused arrivals. "judged tail" is the last ${o.longTailSeconds} s for the long runs and everything after the first third for the jitter runs. ` +
      `"guard at end" and "rate at end" are the controller's values in Redis when the run ended. "false stalls": jobs BullMQ moved back as stalled although no worker died (no lock renewal for a whole lock duration).`,
    '',
    `### No jitter, ${o.longSeconds} s`,
    '',
    table(HEADERS, longRows),
    '',
    `The guard starts at TCSS_WINDOW_GUARD_MS (${h.defaults.tcss.windowGuardMs} ms: at most ${fixed(theory(h.defaults.tcss.windowGuardMs))} calls/s) and narrows by ${GUARD_FRESH_NARROW_MS} ms per quiet second until a call is refused, ${GUARD_NARROW_MS} ms after; ` +
      `99% of the limit needs a guard ≤ ${fixed(1000 / 0.99 - 1000, 1)} ms. The first throttle of our own timing doubles it, later ones widen it by 10 ms; within half a widening of the last refused guard (5 ms; half the last step below 10 ms) it narrows by ${GUARD_SLOW_NARROW_MS} ms per quiet second. ` +
      `What is refused here is our own lateness (a worker's event loop resuming up to about 20 ms late after the send-time check); docs/budget.md ("What the last percent costs without network jitter") shows the measurement.`,
    '',
    `### 0–${o.jitterMs} ms arrival jitter`,
    '',
    table(HEADERS, jitterRows),
    '',
    `Why ≥ 95% is the edge: a call is refused when 21 arrivals fall in 1000 ms. Sends are spaced (1000 + guard) / 20 ms, so 21 sends span 1000 + guard ms, and they arrive within 1000 ms only if the first ` +
      `is delayed more than the last by over \`guard\` ms. With uniform 0–${o.jitterMs} ms delays that happens with probability ((${o.jitterMs} − guard) / ${o.jitterMs})² / 2 per call ` +
      `(guard 25: 12.5%, 40: 2%, 45: 0.5%, 48: 0.08%, ${o.jitterMs}: 0), while the most a guard allows is 20 000 / (1000 + guard) calls/s ` +
      `(25: ${fixed(theory(25))}, 45: ${fixed(theory(45))}, ${o.jitterMs}: ${fixed(theory(o.jitterMs))} = ${percent(theory(o.jitterMs) / limit)}). ` +
      `So ≥ 95% with ≤ 0.5% throttled holds only with the guard between about 45 and 52.6 ms, and the controller has to find that band by being refused: every widening costs a refused call or two. ` +
      `A refused call takes a slot too, so what is accepted is (1 − P(refused)) × 20 000 / (1000 + guard): at best ${percent(accepted(bestGuard) / limit)} of the limit, at a guard of ${bestGuard} ms chosen knowing the jitter ` +
      `(the row "guard fixed at ${bestGuard} ms" measures it). A controller that starts at ${h.defaults.tcss.windowGuardMs} ms, not knowing the jitter, has the difference to 95% to spend on learning; one refused call is ${percent(1 / (limit * o.jitterSeconds))} of a ${o.jitterSeconds}-second run.`,
    '',
    ...plots.flatMap((p) => [p, '']),
  ].join('\n');
  return { title: '5. Pacing over a real network: a long run, arrival jitter', body, targets };
}

export async function runFreshStart(h: Harness, progress: (line: string) => void): Promise<SectionResult> {
  const o = h.opts;
  const rows: Cell[][] = [];
  const targets: TargetResult[] = [];
  const variants = [
    { label: 'ours (defaults: warm-up on)', env: ONE_CALL_PER_JOB, judged: true },
    { label: 'ours, TCSS_WARM_UP=false', env: { ...ONE_CALL_PER_JOB, TCSS_WARM_UP: 'false' }, judged: false },
  ];
  for (let rep = 1; rep <= o.freshRepeats; rep++) {
    for (const v of variants) {
      progress(`fresh start: ${v.label}, ${o.freshProcesses} processes, run ${rep}`);
      const r = await timedRun(h, { kind: 'ours', env: v.env }, o.freshProcesses, o.freshSeconds, {
        countThrottled: true,
      });
      const first = windowOf(r.calls, 0, 1000);
      const firstThree = windowOf(r.calls, 0, 3000);
      rows.push([
        rep,
        v.label,
        first.calls,
        first.throttled,
        firstThree.throttled,
        r.summary.throttled,
        r.summary.maxArrivalsInWindow,
      ]);
      if (v.judged) {
        targets.push({
          target: `${o.freshProcesses} fresh processes starting together (run ${rep}): no throttled call in the first second`,
          measured: `${first.throttled} throttled of ${first.calls} in the first second; ${r.summary.throttled} in the run`,
          met: first.throttled === 0,
        });
      }
    }
  }
  const body = [
    `${o.freshProcesses} new worker processes start together (each ready, i.e. listed by BullMQ, before the backlog is enqueued into the paused queue, which is then resumed: every process finds work at once), ${o.freshSeconds} s each run, one call per job, refused arrivals counted. ` +
      `Each row is a fresh Redis and fresh processes; the variants alternate so that machine load falls on both alike.`,
    '',
    table(
      [
        'run',
        'implementation',
        'calls in the first second',
        'throttled in the first second',
        'throttled in the first 3 s',
        'throttled in the run',
        'most in any 1000 ms',
      ],
      rows,
    ),
  ].join('\n');
  return { title: `6. ${o.freshProcesses} fresh processes starting together`, body, targets };
}

export async function runKillRecovery(h: Harness, progress: (line: string) => void): Promise<SectionResult> {
  const o = h.opts;
  const rows: Cell[][] = [];
  const targets: TargetResult[] = [];
  const concurrency = 20;
  for (let rep = 1; rep <= o.killRepeats; rep++) {
    progress(`kill -9: run ${rep}: 2 workers, ${o.killJobs} jobs, kill one after ${o.killAfterSeconds} s`);
    const producer = await freshRun(h, { countThrottled: true });
    let children: Child[] = [];
    try {
      children = await startWorkers(
        h.spawn,
        { kind: 'ours', env: { ...ONE_CALL_PER_JOB, WORKER_CONCURRENCY: String(concurrency) } },
        2,
        producer.queue,
      );
      // One check item per job: nothing merges, the budget sets the pace (20 jobs/s).
      await enqueueSingles(h, producer, o.killJobs, o.killJobs);
      await sleep(o.killAfterSeconds * 1000);
      const activeAtKill = (await producer.queue.getJobCounts('active')).active ?? 0;
      const killedAt = Date.now();
      await children[0]!.stop('SIGKILL');
      // Long enough for the slowest recovery BullMQ allows with our settings (6 + 1.5 s) and the calls after it.
      await sleep(20_000);
      const completed = await producer.queue.getJobs(['completed'], 0, -1);
      const stc = await Promise.all(completed.map((j) => h.redis.hget(`bull:${producer.queue.name}:${j.id}`, 'stc')));
      const recovered = completed.filter((_, i) => Number(stc[i]) > 0);
      const stillStalled = (await producer.queue.getJobs(['active', 'waiting'], 0, -1)).filter(
        (j) => j.stalledCounter > 0,
      ).length;
      const lastMs = recovered.length > 0 ? Math.max(...recovered.map((j) => j.finishedOn ?? 0)) - killedAt : NaN;
      const firstMs = recovered.length > 0 ? Math.min(...recovered.map((j) => j.finishedOn ?? 0)) - killedAt : NaN;
      rows.push([rep, activeAtKill, recovered.length, stillStalled, fixed(firstMs / 1000, 1), fixed(lastMs / 1000, 1)]);
      targets.push({
        target: `kill -9 of one of two workers (run ${rep}): last stalled job done < 10 s after the kill`,
        measured:
          recovered.length > 0
            ? `${fixed(lastMs / 1000, 1)} s (${recovered.length} stalled jobs${stillStalled > 0 ? `, ${stillStalled} not done after 20 s` : ''})`
            : 'no job was stalled',
        met: recovered.length > 0 && stillStalled === 0 && lastMs < 10_000,
      });
    } finally {
      await Promise.all(children.map((c) => c.stop('SIGKILL')));
      await producer.close();
    }
  }
  const body = [
    `Two workers (WORKER_CONCURRENCY=${concurrency}, one call per job, one check item per job so that nothing merges) work a backlog of ${o.killJobs} jobs; after ${o.killAfterSeconds} s one is killed with SIGKILL. ` +
      `Its active jobs keep their locks until the locks expire (LOCK_DURATION_MS 6 s after the last renewal, renewed about every second), and a stalled check (every STALLED_INTERVAL_MS, 1.5 s, cluster-wide) moves them back to the front of the queue, ` +
      `where the other worker takes them first. "Stalled jobs" are the jobs BullMQ moved back (stc > 0); times are from the kill to the first and last of them completed (BullMQ's finishedOn, same machine clock). ` +
      `With the settings before (15 s lock, 15 s checks) the same detection took up to 30 s. The concurrency is lowered here because recovery also needs budget: a killed worker holding 200 jobs of one call each needs 10 s of the 20 req/s budget for them alone, whatever the detection.`,
    '',
    table(
      [
        'run',
        'active at the kill (both workers)',
        'stalled jobs',
        'stalled, not done after 20 s',
        'first done after the kill (s)',
        'last done after the kill (s)',
      ],
      rows,
    ),
  ].join('\n');
  return { title: '7. kill -9 of one of two workers: recovery', body, targets };
}
