/**
 * Scheduled rescans (src/schedules/): the schedules file, BullMQ 6 Job Schedulers on the suite's real
 * Redis (each test its own queue, obliterated afterwards), and how the CLI shows them
 * (src/cli/schedulesFormat.ts).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker, type JobsOptions, type Queue } from 'bullmq';
import { JOB_NAME, parseRescanJobData } from '../src/job';
import { RescanProducer } from '../src/producer';
import {
  SCHEDULED_PRIORITY,
  SchedulesError,
  listSchedules,
  parseSchedulesFile,
  syncSchedules,
  type ScheduleEntry,
} from '../src/schedules';
import { formatScheduleList, formatSyncReport } from '../src/cli/schedulesFormat';
import { redisClient, testRedisUrl, uniqueName, waitFor } from './support/redis';

const MAX = 3;

/** One entry of a schedules file. */
function entry(fields: Record<string, unknown>): string {
  return (
    '  - ' +
    Object.entries(fields)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join('\n    ')
  );
}
const file = (...entries: Record<string, unknown>[]) => `schedules:\n${entries.map(entry).join('\n')}\n`;
const parse = (text: string, maxAssetsPerCall = MAX) => parseSchedulesFile(text, { maxAssetsPerCall });

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SchedulesError);
    expect((err as SchedulesError).name).toBe('SchedulesError');
    return (err as SchedulesError).problems;
  }
  throw new Error('expected a SchedulesError');
}

describe('parseSchedulesFile', () => {
  it('parses a valid file: defaults, deduplicated assets, parts', () => {
    const text = `
schedules:
  - name: nightly-baseline          # a comment
    cron: "0 2 * * *"
    timezone: Asia/Shanghai
    policyItemId: 2798
    assetIds: [2202462, 111, 2202462]
    assetType: ASSET_CONTAINER
  - name: every-minute.v2
    cron: "0 * * * * *"
    policyItemId: 1
    assetIds:
      - 5
`;
    expect(parse(text)).toEqual<ScheduleEntry[]>([
      {
        name: 'nightly-baseline',
        cron: '0 2 * * *',
        timezone: 'Asia/Shanghai',
        policyItemId: 2798,
        assetIds: [2202462, 111],
        assetType: 'ASSET_CONTAINER',
        parts: [
          {
            id: 'nightly-baseline',
            data: { policyItemId: 2798, assetIds: [2202462, 111], assetType: 'ASSET_CONTAINER' },
          },
        ],
      },
      {
        name: 'every-minute.v2',
        cron: '0 * * * * *',
        timezone: 'UTC',
        policyItemId: 1,
        assetIds: [5],
        parts: [{ id: 'every-minute.v2', data: { policyItemId: 1, assetIds: [5] } }],
      },
    ]);
    expect(parse('schedules: []\n')).toEqual([]);
  });

  it('accepts the example file', () => {
    const text = readFileSync(path.join(__dirname, '..', 'examples', 'schedules.yaml'), 'utf8');
    expect(parse(text, 100).map((e) => e.name)).toEqual(['nightly-baseline', 'weekday-hosts', 'images-every-6h']);
  });

  it('splits an entry above maxAssetsPerCall unique assets into <name>#k parts sharing one batch id', () => {
    const [e] = parse(file({ name: 'big', cron: '0 2 * * *', policyItemId: 7, assetIds: [1, 2, 2, 3, 4, 5, 6, 7, 1] }));
    expect(e!.assetIds).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(e!.parts).toEqual([
      { id: 'big#1', data: { policyItemId: 7, assetIds: [1, 2, 3], batchId: 'schedule:big' } },
      { id: 'big#2', data: { policyItemId: 7, assetIds: [4, 5, 6], batchId: 'schedule:big' } },
      { id: 'big#3', data: { policyItemId: 7, assetIds: [7], batchId: 'schedule:big' } },
    ]);
    for (const p of e!.parts) expect(parseRescanJobData(p.data)).toEqual(p.data);
    // Exactly maxAssetsPerCall unique assets (after deduplication): one part, named after the entry.
    const [one] = parse(file({ name: 'edge', cron: '0 2 * * *', policyItemId: 7, assetIds: [1, 2, 3, 3] }));
    expect(one!.parts).toEqual([{ id: 'edge', data: { policyItemId: 7, assetIds: [1, 2, 3] } }]);
  });

  it('refuses every kind of bad entry at once, each problem naming its entry', () => {
    const ok = { cron: '0 2 * * *', policyItemId: 1, assetIds: [1] };
    const text =
      file(
        { name: 'ok-entry', ...ok },
        { name: 'bad-cron', ...ok, cron: '0 2 * *' },
        { name: 'bad-cron-value', ...ok, cron: '61 2 * * *' },
        { name: 'alias-cron', ...ok, cron: '@daily' },
        { name: 'no-cron', policyItemId: 1, assetIds: [1] },
        { name: 'bad-zone', ...ok, timezone: 'Mars/Olympus_Mons' },
        { name: 'bad-ids', cron: '0 2 * * *', policyItemId: -3, assetIds: [1, 'two', 1.5], assetType: 'ASSET_BOAT' },
        { name: 'extra', ...ok, priority: 5 },
        { ...ok },
        { name: 'has space', cron: '0 2 * * *', policyItemId: 1 },
        { name: 'ok-entry', ...ok, cron: '0 3 * * *' },
        { name: 'numeric-cron', ...ok, cron: 5, assetIds: [] },
      ) + '  - just a string\n';
    expect(problemsOf(() => parse(text))).toEqual([
      'bad-cron: cron must be a cron pattern of 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got "0 2 * *"',
      'bad-cron-value: cron "61 2 * * *" is not a valid cron pattern: Constraint error, got value 61 expected range 0-59',
      'alias-cron: cron must be a cron pattern of 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got "@daily"',
      'no-cron: cron is required',
      'bad-zone: timezone must be an IANA time zone such as Asia/Shanghai, got "Mars/Olympus_Mons"',
      'bad-ids: policyItemId must be a positive whole number no larger than 2^53-1, got -3',
      'bad-ids: assetIds[1]: each asset id must be a positive whole number, got "two"',
      'bad-ids: assetIds[2]: each asset id must be a positive whole number no larger than 2^53-1, got 1.5',
      'bad-ids: assetType must be one of ASSET_CONTAINER, ASSET_IMAGE, ASSET_HOST, ASSET_K8S, ASSET_CONTAINERD, ASSET_CONTAINERD_CONTAINER, got "ASSET_BOAT"',
      'extra: unknown field "priority" (allowed: name, cron, timezone, policyItemId, assetIds, assetType)',
      'entry #9: name is required',
      'entry #10: name must be 1 to 100 letters, digits, _ . or -, got "has space"',
      'entry #10: assetIds is required',
      'numeric-cron: cron must be a quoted string such as "0 2 * * *", got 5',
      'numeric-cron: assetIds must contain at least one asset id',
      'entry #13: an entry must be a mapping with name, cron, policyItemId, assetIds (and optionally timezone, assetType), got "just a string"',
      'ok-entry: duplicate name (entries #1, #11); names must be unique',
    ]);
  });

  it('refuses a pattern that fires more than once a minute, unless allowSubMinute', () => {
    const ok = { policyItemId: 1, assetIds: [1] };
    const text = file(
      { name: 'every-10s', cron: '*/10 * * * * *', ...ok },
      { name: 'twice-at-3am', cron: '0,30 0 3 * * *', timezone: 'Asia/Shanghai', ...ok },
      { name: 'every-minute', cron: '* * * * *', ...ok },
      { name: 'every-minute-at-15s', cron: '15 * * * * *', ...ok },
    );
    expect(problemsOf(() => parse(text))).toEqual([
      'every-10s: cron "*/10 * * * * *" fires more than once a minute; allow it with --allow-sub-minute (option allowSubMinute) if that is really meant',
      'twice-at-3am: cron "0,30 0 3 * * *" fires more than once a minute; allow it with --allow-sub-minute (option allowSubMinute) if that is really meant',
    ]);
    expect(parseSchedulesFile(text, { maxAssetsPerCall: MAX, allowSubMinute: true }).map((e) => e.name)).toEqual([
      'every-10s',
      'twice-at-3am',
      'every-minute',
      'every-minute-at-15s',
    ]);
  });

  it('refuses a file that is not a list of entries, or not YAML, saying where', () => {
    expect(problemsOf(() => parse('schedules:\n  name: a\n'))).toEqual([
      'schedules must be a list of entries, got {"name":"a"}',
    ]);
    expect(problemsOf(() => parse('- name: a\n'))).toEqual([
      'the file must be a mapping with a "schedules" list, got [{"name":"a"}]',
    ]);
    expect(problemsOf(() => parse(''))).toEqual(['the file must be a mapping with a "schedules" list, got null']);
    expect(problemsOf(() => parse('schedule: []\n'))).toEqual([
      'unknown top-level field "schedule" (allowed: schedules)',
      'schedules is required: a list of entries',
    ]);
    expect(problemsOf(() => parse('schedules:\n  - name: a\n    cron: */5 * * * *\n'))).toEqual([
      'invalid YAML at line 3, column 15: Unexpected alias at node end (quote cron patterns: cron: "*/5 * * * *")',
    ]);
    expect(problemsOf(() => parse('schedules:\n  - name: a\n    name: b\n'))).toEqual([
      'invalid YAML at line 3, column 5: Map keys must be unique',
    ]);
    const broken = problemsOf(() => parse('schedules:\n  - name: a\n    assetIds: [1, 2\n'));
    expect(broken.length).toBeGreaterThan(0);
    expect(broken[0]).toMatch(/^invalid YAML at line \d+, column \d+: /);
  });
});

describe('job schedulers on Redis', () => {
  let producer: RescanProducer;
  let queue: Queue;
  let jobOpts: JobsOptions;
  const workers: Worker[] = [];

  beforeEach(() => {
    producer = new RescanProducer({
      redisUrl: testRedisUrl(),
      queueName: uniqueName('sched'),
      maxAttempts: 4,
      backoffMs: 250,
    });
    queue = producer.queue;
    jobOpts = producer.jobOptions();
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    await queue.obliterate({ force: true });
    const redis = redisClient();
    try {
      expect(await redis.keys(`bull:${queue.name}:*`)).toEqual([]);
    } finally {
      await redis.quit();
    }
    await producer.close();
  });

  const NIGHTLY = {
    name: 'nightly',
    cron: '0 2 * * *',
    timezone: 'Asia/Shanghai',
    policyItemId: 2798,
    assetIds: [2202462, 111],
    assetType: 'ASSET_CONTAINER',
  };
  const HOURLY = { name: 'hourly', cron: '0 * * * *', policyItemId: 5, assetIds: [9] };

  async function schedulers() {
    const all = await queue.getJobSchedulers();
    return Object.fromEntries(all.map((s) => [s.key, s]));
  }

  it('adds, is idempotent, updates what changed, removes what left the file', async () => {
    const first = await syncSchedules(queue, parse(file(NIGHTLY, HOURLY)), jobOpts);
    expect(first).toEqual({ added: ['nightly', 'hourly'], updated: [], removed: [], unchanged: [] });
    const s = await schedulers();
    expect(Object.keys(s).sort()).toEqual(['hourly', 'nightly']);
    expect(s.nightly).toMatchObject({
      name: JOB_NAME,
      pattern: '0 2 * * *',
      tz: 'Asia/Shanghai',
      template: { data: { policyItemId: 2798, assetIds: [2202462, 111], assetType: 'ASSET_CONTAINER' } },
    });
    expect(s.hourly).toMatchObject({ pattern: '0 * * * *', tz: 'UTC' });

    // Same file again: nothing touched (not even the pending run).
    const delayedBefore = (await queue.getDelayed()).map((j) => j.id).sort();
    expect(await syncSchedules(queue, parse(file(NIGHTLY, HOURLY)), jobOpts)).toEqual({
      added: [],
      updated: [],
      removed: [],
      unchanged: ['nightly', 'hourly'],
    });
    expect((await queue.getDelayed()).map((j) => j.id).sort()).toEqual(delayedBefore);

    // Each kind of change is an update.
    let nightly = { ...NIGHTLY };
    for (const change of [
      { cron: '30 3 * * *' },
      { timezone: 'Europe/Berlin' },
      { assetIds: [2202462] },
      { assetType: 'ASSET_HOST' },
    ]) {
      const changed = { ...nightly, ...change };
      expect(await syncSchedules(queue, parse(file(changed, HOURLY)), jobOpts)).toEqual({
        added: [],
        updated: ['nightly'],
        removed: [],
        unchanged: ['hourly'],
      });
      const n = (await schedulers()).nightly!;
      expect(n.pattern).toBe(changed.cron);
      expect(n.tz).toBe(changed.timezone);
      expect(n.template?.data).toEqual({
        policyItemId: 2798,
        assetIds: changed.assetIds,
        assetType: changed.assetType,
      });
      // The pending run was replaced, not duplicated.
      expect((await queue.getDelayed()).filter((j) => j.repeatJobKey === 'nightly')).toHaveLength(1);
      expect(await syncSchedules(queue, parse(file(changed, HOURLY)), jobOpts)).toMatchObject({
        updated: [],
        unchanged: ['nightly', 'hourly'],
      });
      nightly = changed;
    }

    // Changed job options (say TCSS_MAX_ATTEMPTS) reach the template too.
    expect(await syncSchedules(queue, parse(file(nightly, HOURLY)), { ...jobOpts, attempts: 9 })).toMatchObject({
      updated: ['nightly', 'hourly'],
    });

    // Dropped from the file: removed, with its pending run.
    expect(await syncSchedules(queue, parse(file(HOURLY)), jobOpts)).toEqual({
      added: [],
      updated: ['hourly'],
      removed: ['nightly'],
      unchanged: [],
    });
    expect(Object.keys(await schedulers())).toEqual(['hourly']);
    expect((await queue.getDelayed()).map((j) => j.repeatJobKey)).toEqual(['hourly']);

    expect(await syncSchedules(queue, parse('schedules: []\n'), jobOpts)).toEqual({
      added: [],
      updated: [],
      removed: ['hourly'],
      unchanged: [],
    });
    expect(await queue.getJobSchedulersCount()).toBe(0);
    expect(await queue.getDelayedCount()).toBe(0);
  });

  it('splits a big entry into #k schedulers, and shrinking it removes the surplus parts', async () => {
    const big = (n: number) => ({
      name: 'big',
      cron: '0 4 * * *',
      policyItemId: 11,
      assetIds: Array.from({ length: n }, (_, i) => 100 + i),
    });
    expect(await syncSchedules(queue, parse(file(big(8))), jobOpts)).toMatchObject({
      added: ['big#1', 'big#2', 'big#3'],
    });
    let s = await schedulers();
    expect(Object.keys(s).sort()).toEqual(['big#1', 'big#2', 'big#3']);
    expect(s['big#1']!.template?.data).toEqual({
      policyItemId: 11,
      assetIds: [100, 101, 102],
      batchId: 'schedule:big',
    });
    expect(s['big#3']!.template?.data).toEqual({ policyItemId: 11, assetIds: [106, 107], batchId: 'schedule:big' });
    expect(await queue.getDelayedCount()).toBe(3);

    // 8 -> 5 assets: #1 is the same, #2 loses one asset, #3 goes.
    expect(await syncSchedules(queue, parse(file(big(5))), jobOpts)).toEqual({
      added: [],
      updated: ['big#2'],
      removed: ['big#3'],
      unchanged: ['big#1'],
    });
    s = await schedulers();
    expect(Object.keys(s).sort()).toEqual(['big#1', 'big#2']);
    expect(s['big#2']!.template?.data).toEqual({ policyItemId: 11, assetIds: [103, 104], batchId: 'schedule:big' });
    expect(await queue.getDelayedCount()).toBe(2);

    // One part left: it is called after the entry, the #k parts go.
    expect(await syncSchedules(queue, parse(file(big(2))), jobOpts)).toEqual({
      added: ['big'],
      updated: [],
      removed: ['big#1', 'big#2'],
      unchanged: [],
    });
    expect((await schedulers()).big!.template?.data).toEqual({ policyItemId: 11, assetIds: [100, 101] });
    expect(await queue.getDelayedCount()).toBe(1);
  });

  it('leaves existing schedulers untouched when the file or the entries are invalid', async () => {
    await syncSchedules(queue, parse(file(NIGHTLY, HOURLY)), jobOpts);
    const before = JSON.stringify(await queue.getJobSchedulers(0, -1, true));
    const delayedBefore = (await queue.getDelayed()).map((j) => j.id).sort();

    // The CLI path: parse refuses the file, so nothing is synced.
    const badFile = file({ ...NIGHTLY, cron: '0 5 * * *' }, { ...HOURLY, timezone: 'Nowhere/Land' });
    expect(problemsOf(() => parse(badFile))).toEqual([
      'hourly: timezone must be an IANA time zone such as Asia/Shanghai, got "Nowhere/Land"',
    ]);

    // Entries built by hand are checked before anything changes: the first (a real change) is not applied.
    const valid = parse(file({ ...NIGHTLY, cron: '0 5 * * *' }, HOURLY));
    const broken: ScheduleEntry[] = [
      valid[0]!,
      { ...valid[1]!, cron: '99 * * * *' },
      { ...valid[1]!, name: 'dup', parts: [{ id: 'dup', data: { policyItemId: 1, assetIds: [1, 1] } }] },
      { ...valid[1]!, name: 'dup', parts: [{ id: 'dup', data: { policyItemId: 1, assetIds: [2] } }] },
    ];
    await expect(syncSchedules(queue, broken, jobOpts)).rejects.toMatchObject({
      name: 'SchedulesError',
      problems: [
        'hourly: cron "99 * * * *" is not a valid cron pattern: Constraint error, got value 99 expected range 0-59',
        'dup: dup: assetIds must not contain duplicates',
        'dup: duplicate scheduler id "dup"',
      ],
    });
    expect(JSON.stringify(await queue.getJobSchedulers(0, -1, true))).toBe(before);
    expect((await queue.getDelayed()).map((j) => j.id).sort()).toEqual(delayedBefore);
  });

  it('lists schedulers with their next run, in the time zone of the entry', async () => {
    const big = { name: 'big', cron: '15 6 * * *', policyItemId: 3, assetIds: [1, 2, 3, 4] };
    const now = Date.now();
    await syncSchedules(queue, parse(file(NIGHTLY, HOURLY, big)), jobOpts);
    const list = await listSchedules(queue);
    expect(list.map((s) => s.id)).toEqual(['big#1', 'big#2', 'hourly', 'nightly']);
    const nightly = list.find((s) => s.id === 'nightly')!;
    expect(nightly).toMatchObject({
      name: 'nightly',
      cron: '0 2 * * *',
      timezone: 'Asia/Shanghai',
      policyItemId: 2798,
      assets: 2,
      assetType: 'ASSET_CONTAINER',
    });
    // 02:00 in Shanghai (UTC+8, no daylight saving) is 18:00 UTC the day before; within 24 h from now.
    const next = new Date(nightly.next!);
    expect(nightly.next).toBe(next.toISOString());
    expect(next.getUTCHours()).toBe(18);
    expect(next.getUTCMinutes()).toBe(0);
    expect(next.getTime()).toBeGreaterThan(now);
    expect(next.getTime()).toBeLessThanOrEqual(now + 86_400_000);

    const hourly = list.find((s) => s.id === 'hourly')!;
    expect(hourly).toMatchObject({ name: 'hourly', timezone: 'UTC', assets: 1, assetType: null });
    expect(new Date(hourly.next!).getUTCMinutes()).toBe(0);
    expect(new Date(hourly.next!).getTime()).toBeGreaterThan(now);
    expect(new Date(hourly.next!).getTime()).toBeLessThanOrEqual(now + 3_600_000);

    const parts = list.filter((s) => s.name === 'big');
    expect(parts.map((s) => [s.id, s.assets])).toEqual([
      ['big#1', 3],
      ['big#2', 1],
    ]);
    expect(new Date(parts[0]!.next!).getUTCHours()).toBe(6);

    const text = formatScheduleList(list);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^SCHEDULER\s+CRON\s+TIMEZONE\s+POLICY ITEM\s+ASSETS\s+ASSET TYPE\s+NEXT RUN \(UTC\)$/);
    expect(lines).toHaveLength(5);
    expect(lines[4]).toMatch(
      new RegExp(
        `^nightly\\s+0 2 \\* \\* \\*\\s+Asia/Shanghai\\s+2798\\s+2\\s+ASSET_CONTAINER\\s+${nightly.next!.slice(0, 10)} 18:00:00Z$`,
      ),
    );
    expect(formatScheduleList([])).toBe('no schedules');
  });

  it('creates rescan jobs with valid data, our job options and SCHEDULED_PRIORITY', async () => {
    await syncSchedules(
      queue,
      parse(
        file({ name: 'big', cron: '0 2 * * *', timezone: 'Asia/Shanghai', policyItemId: 8, assetIds: [1, 2, 3, 4] }),
      ),
      jobOpts,
    );
    const delayed = await queue.getDelayed();
    expect(delayed.map((j) => j.repeatJobKey).sort()).toEqual(['big#1', 'big#2']);
    for (const job of delayed) {
      expect(job.name).toBe(JOB_NAME);
      expect(parseRescanJobData(job.data)).toEqual(job.data);
      expect(job.data.batchId).toBe('schedule:big');
      expect(job.opts.priority).toBe(SCHEDULED_PRIORITY);
      expect(job.priority).toBe(SCHEDULED_PRIORITY);
      expect(job.opts.attempts).toBe(4);
      expect(job.opts.backoff).toEqual(jobOpts.backoff);
      expect(job.opts.removeOnComplete).toEqual(jobOpts.removeOnComplete);
      // Its id is repeat:<scheduler id>:<run time in ms>: 02:00 Shanghai is 18:00 UTC.
      expect(job.id).toMatch(new RegExp(`^repeat:${job.repeatJobKey}:\\d+$`));
      expect(new Date(Number(job.id!.split(':').pop())).toISOString()).toMatch(/T18:00:00.000Z$/);
    }
    // The priority is ours even if the caller's job options carry one.
    await syncSchedules(queue, parse(file({ name: 'x', cron: '0 2 * * *', policyItemId: 8, assetIds: [1] })), {
      ...jobOpts,
      priority: 1,
    });
    const [x] = await queue.getDelayed();
    expect(x!.opts.priority).toBe(SCHEDULED_PRIORITY);
  });

  it('runs an un-prioritized rescan enqueued after scheduled ones first', async () => {
    // Three scheduled runs, made due now (job.promote keeps the priority), waiting in `prioritized`.
    await syncSchedules(
      queue,
      parse(
        file(
          { ...HOURLY, name: 's1' },
          { ...HOURLY, name: 's2', assetIds: [10] },
          { ...HOURLY, name: 's3', assetIds: [11] },
        ),
      ),
      jobOpts,
    );
    const scheduled = await queue.getDelayed();
    expect(scheduled).toHaveLength(3);
    for (const job of scheduled) await job.promote();
    // Then a service enqueues a rescan the ordinary way (no priority).
    const { jobIds } = await producer.enqueue({ policyItemId: 99, assetIds: [1] });
    expect(await queue.getJobCounts('prioritized', 'waiting', 'delayed')).toEqual({
      prioritized: 3,
      waiting: 1,
      delayed: 0,
    });

    const order: string[] = [];
    const worker = new Worker(
      queue.name,
      async (job) => {
        order.push(job.id!);
      },
      { connection: { url: testRedisUrl(), maxRetriesPerRequest: null }, concurrency: 1, autorun: false },
    );
    workers.push(worker);
    void worker.run();
    await waitFor(() => order.length >= 4, 20_000, 50, 'four jobs processed');
    expect(order[0]).toBe(jobIds[0]);
    expect(order.slice(1, 4).sort()).toEqual(scheduled.map((j) => j.id!).sort());
    // Each scheduler then made its next run from the stored template: same name, data and priority.
    const next = await waitFor(async () => {
      const d = await queue.getDelayed();
      return d.length === 3 ? d : undefined;
    });
    expect(next.map((j) => j.repeatJobKey).sort()).toEqual(['s1', 's2', 's3']);
    for (const job of next) {
      expect(job.name).toBe(JOB_NAME);
      expect(job.priority).toBe(SCHEDULED_PRIORITY);
      expect(job.data).toEqual(scheduled.find((j) => j.repeatJobKey === job.repeatJobKey)!.data);
    }
  });

  it('removing a schedule also cancels its run that is due but not started', async () => {
    await syncSchedules(queue, parse(file(NIGHTLY)), jobOpts);
    const [job] = await queue.getDelayed();
    await job!.promote();
    expect(await job!.getState()).toBe('prioritized');
    expect(await syncSchedules(queue, parse('schedules: []\n'), jobOpts)).toMatchObject({ removed: ['nightly'] });
    expect(await queue.getJob(job!.id!)).toBeUndefined();
    expect(await queue.getJobCounts('prioritized', 'waiting', 'delayed')).toEqual({
      prioritized: 0,
      waiting: 0,
      delayed: 0,
    });
  });
});

describe('formatSyncReport', () => {
  it('prints one line per scheduler and the totals', () => {
    expect(formatSyncReport({ added: ['a', 'big#1'], updated: ['b'], removed: ['old'], unchanged: ['c'] })).toBe(
      [
        'added      a',
        'added      big#1',
        'updated    b',
        'removed    old',
        'unchanged  c',
        '2 added, 1 updated, 1 removed, 1 unchanged',
      ].join('\n'),
    );
    expect(formatSyncReport({ added: [], updated: [], removed: [], unchanged: [] })).toBe(
      'no schedules in the file or on the queue\n0 added, 0 updated, 0 removed, 0 unchanged',
    );
  });
});
