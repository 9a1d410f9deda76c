/**
 * deploy/prometheus (rules) and deploy/grafana (dashboard): the alerting rules pass `promtool test
 * rules` with two server replicas in the input (no double counting), and the rules and dashboard use
 * only series the server really exports, aggregated over replicas with max/min, never sum.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { parse } from 'yaml';
import { createPromRegistry } from '../../src/server/promMetrics';
import { redisClient, testRedisUrl, uniqueName } from '../support/redis';

const promDir = path.join(__dirname, '..', '..', 'deploy', 'prometheus');
const rulesFile = path.join(promDir, 'rules.yml');

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
}
const rules = (parse(readFileSync(rulesFile, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);
const records = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
const dashboard = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', 'deploy', 'grafana', 'tcss-rescan.json'), 'utf8'),
) as {
  panels: { title: string; targets: { expr: string }[] }[];
};
const dashboardExprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));

const promtool = (args: string[], cwd = promDir) => {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, error: r.error?.message };
};

/** Metric names an expression reads (identifiers followed by `{`, `[`, `)` or the end, not functions or keywords). */
function metricNames(expr: string): string[] {
  const bare = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '{}');
  const names = bare.match(/(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\{|\[|\)|$|\s*[<>=!/*+-]))/g) ?? [];
  const words = new Set([
    'by',
    'on',
    'without',
    'and',
    'or',
    'unless',
    'ignoring',
    'group_left',
    'group_right',
    'bool',
    'queue',
    'code',
    'le',
    'state',
  ]);
  return [...new Set(names.filter((n) => !words.has(n) && !/^\d/.test(n)))];
}

test('promtool accepts the rules and their unit tests pass', () => {
  expect(promtool(['check', 'rules', 'rules.yml'])).toMatchObject({ status: 0 });
  // One CI run (of seven) saw promtool exit 1 here while 2 test files ran beside it; its output was not
  // kept. Asked once more, and on failure the assertion shows what promtool printed.
  let t = promtool(['test', 'rules', 'rules.test.yml']);
  if (t.status !== 0) t = promtool(['test', 'rules', 'rules.test.yml']);
  expect(t).toMatchObject({ status: 0 });
  expect(t.out).toContain('SUCCESS');
});

test('the five alerts the runbook needs exist, and each one is unit-tested firing and quiet', () => {
  const alerts = rules.flatMap((r) => (r.alert ? [r.alert] : []));
  expect(alerts.sort()).toEqual([
    'TcssRescanJobsFailing',
    'TcssRescanNoTaskIds',
    'TcssRescanOldestWaitingJob',
    'TcssRescanThrottling',
    'TcssRescanWorkersPaused',
  ]);
  const tests = (
    parse(readFileSync(path.join(promDir, 'rules.test.yml'), 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    }
  ).tests.flatMap((t) => t.alert_rule_test ?? []);
  for (const a of alerts) {
    expect({ a, fires: tests.some((t) => t.alertname === a && t.exp_alerts.length > 0) }).toEqual({ a, fires: true });
    expect({ a, quiet: tests.some((t) => t.alertname === a && t.exp_alerts.length === 0) }).toEqual({ a, quiet: true });
  }
});

test('raw tcss_rescan_* series are aggregated over replicas with max/min only (never sum)', () => {
  expect(
    rules.filter((r) => metricNames(r.expr).some((n) => n.startsWith('tcss_rescan_'))).length,
  ).toBeGreaterThanOrEqual(10);
  for (const r of rules) {
    const raw = metricNames(r.expr).filter((n) => n.startsWith('tcss_rescan_'));
    if (raw.length === 0) continue;
    expect({ rule: r.record ?? r.alert, expr: r.expr, ok: /^(max|min) by \(/.test(r.expr) }).toEqual({
      rule: r.record ?? r.alert,
      expr: r.expr,
      ok: true,
    });
  }
  for (const { panel, expr } of dashboardExprs) {
    expect({ panel, raw: metricNames(expr).filter((n) => n.startsWith('tcss_rescan_')) }).toEqual({ panel, raw: [] });
  }
});

test('the rules and the dashboard read only series the server exports or the rules record', async () => {
  const redis = redisClient();
  const queue = new Queue(uniqueName('promnames'), { connection: { url: testRedisUrl() } });
  try {
    const registry = createPromRegistry({ queue, redis, currentRate: () => Promise.resolve(20) });
    const exported = new Set<string>();
    for (const m of (await registry.getMetricsAsJSON()) as unknown as { name: string; type: string }[]) {
      exported.add(m.name);
      if (m.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(m.name + s);
    }
    const used = [...rules.map((r) => r.expr), ...dashboardExprs.map((d) => d.expr)].flatMap(metricNames);
    expect(used).toEqual(
      expect.arrayContaining([
        'tcss_rescan_calls_total',
        'tcss_rescan_enqueue_to_task_id_seconds_bucket',
        'queue:tcss_rescan_paused_workers:max',
        'process_cpu_seconds_total',
      ]),
    );
    expect(used.filter((n) => !exported.has(n) && !records.has(n))).toEqual([]);
  } finally {
    await queue.close();
    await redis.quit();
  }
});

test('every dashboard query is valid PromQL (promtool parses them as rules)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'dash-'));
  try {
    const file = path.join(dir, 'dashboard-exprs.yml');
    const asRules = dashboardExprs.map((d, i) => ({
      record: `dashboard:expr_${i}`,
      expr: d.expr.replace(/\$queue/g, 'q').replace(/\$job/g, 'j'),
    }));
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules: asRules }] }));
    expect(promtool(['check', 'rules', file], dir)).toMatchObject({ status: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
