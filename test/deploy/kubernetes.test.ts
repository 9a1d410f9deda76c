/**
 * deploy/kubernetes: rendered with `kubectl kustomize` (Debian's kubernetes-client, installed by
 * .ci/run), every object validated offline against the Kubernetes OpenAPI schemas bundled in the
 * `kubernetes-models` package (test/support/k8sValidate.mjs), and checked for what the issue asks:
 * probes, drain time, non-root, read-only root filesystem, requests, PDBs, the schedules Job.
 */
import { RECORD_SAVE_FIRST_DELAY_MS, RECORD_SAVE_MAX_DELAY_MS, RECORD_SAVE_RETRIES } from '../../src/worker/groupCall';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config';
import { parseSchedulesFile } from '../../src/schedules';

const root = path.join(__dirname, '..', '..');
const VALIDATE = path.join(__dirname, '..', 'support', 'k8sValidate.mjs');

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: any;
};

function render(dir: string): Obj[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.error?.message ?? r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJSON() as Obj);
}

function validate(objs: Obj[]): { where: string; problem: string }[] {
  const r = spawnSync(process.execPath, [VALIDATE], { input: JSON.stringify(objs), encoding: 'utf8', cwd: root });
  if (r.status !== 0) throw new Error(`validator failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { where: string; problem: string }[];
}

const base = render(path.join(root, 'deploy', 'kubernetes'));
const overlay = render(path.join(root, 'deploy', 'kubernetes', 'overlays', 'tke-role'));
const find = (objs: Obj[], kind: string, name: string) => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name.startsWith(name));
  if (!o) throw new Error(`no ${kind} ${name}`);
  return o;
};
const worker = find(base, 'Deployment', 'tcss-rescan-worker');
const server = find(base, 'Deployment', 'tcss-rescan-server');
const job = find(base, 'Job', 'tcss-rescan-schedules-sync');
const configMap = find(base, 'ConfigMap', 'tcss-rescan-config');
const podSpecs = [worker, server, job].map((o) => ({ name: o.metadata.name, spec: o.spec.template.spec }));

test('the base and the overlay render, and every object is valid against the Kubernetes schemas', () => {
  expect(base.map((o) => o.kind).sort()).toEqual([
    'ConfigMap',
    'ConfigMap',
    'Deployment',
    'Deployment',
    'Job',
    'PodDisruptionBudget',
    'PodDisruptionBudget',
    'Service',
    'ServiceAccount',
  ]);
  expect(validate(base)).toEqual([]);
  expect(validate(overlay)).toEqual([]);
  // The validator does catch mistakes.
  const broken = structuredClone(base);
  find(broken, 'Deployment', 'tcss-rescan-worker').spec.replicas = 'two';
  find(broken, 'Service', 'tcss-rescan-server').spec.ports[0].port = 'http';
  expect(
    validate(broken)
      .map((p) => p.where)
      .sort(),
  ).toEqual(['Deployment/tcss-rescan-worker', 'Service/tcss-rescan-server']);
});

test('workers: a grace period longer than a drain, and the heartbeat as liveness probe on a writable /tmp', () => {
  const spec = worker.spec.template.spec;
  const c = spec.containers[0];
  expect(c.args).toEqual(['worker']);
  // A drain: the active jobs' calls through the shared budget, one call's timeout, the record retries.
  const cfg = loadConfig(configMap.data);
  // The record's retries (worker/groupCall.ts): RECORD_SAVE_FIRST_DELAY_MS doubling, capped, RECORD_SAVE_RETRIES times (21.2 s).
  const recordRetriesS =
    Array.from({ length: RECORD_SAVE_RETRIES }, (_, i) =>
      Math.min(RECORD_SAVE_FIRST_DELAY_MS * 2 ** i, RECORD_SAVE_MAX_DELAY_MS),
    ).reduce((a, b) => a + b, 0) / 1000;
  const drainS = cfg.workerConcurrency / cfg.tcss.rateLimit + cfg.tcss.timeoutMs / 1000 + recordRetriesS;
  expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(drainS);
  expect(c.livenessProbe.exec.command).toEqual(['node', 'dist/healthcheck.js']);
  // The probe may fail only after the heartbeat's 30 s staleness, never before it could be fresh.
  expect(
    c.livenessProbe.initialDelaySeconds + c.livenessProbe.periodSeconds * c.livenessProbe.failureThreshold,
  ).toBeGreaterThan(30);
  expect(cfg.heartbeatFile?.startsWith('/tmp/')).toBe(true);
  expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
  expect(spec.volumes).toContainEqual(expect.objectContaining({ name: 'tmp', emptyDir: expect.anything() }));
});

test('server: /healthz liveness, /readyz readiness, on the port it listens on, behind a ClusterIP Service', () => {
  const c = server.spec.template.spec.containers[0];
  expect(c.args).toEqual(['serve']);
  const env = Object.fromEntries((c.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
  expect(env.SERVER_HOST).toBe('0.0.0.0');
  expect(c.ports).toContainEqual({ name: 'http', containerPort: Number(env.SERVER_PORT) });
  expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
  expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
  const svc = find(base, 'Service', 'tcss-rescan-server');
  expect(svc.spec.type).toBe('ClusterIP');
  expect(server.spec.template.metadata.labels).toMatchObject(svc.spec.selector);
});

test('every pod: non-root, read-only root filesystem, no privilege escalation, resource requests, no API token', () => {
  for (const { name, spec } of podSpecs) {
    expect({
      name,
      runAsNonRoot: spec.securityContext.runAsNonRoot,
      automount: spec.automountServiceAccountToken,
    }).toEqual({ name, runAsNonRoot: true, automount: false });
    for (const c of spec.containers) {
      expect({ name, sc: c.securityContext }).toEqual({
        name,
        sc: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      });
      expect({ name, cpu: !!c.resources.requests.cpu, memory: !!c.resources.requests.memory }).toEqual({
        name,
        cpu: true,
        memory: true,
      });
      // Configuration and credentials: the ConfigMap and the Secret (or a role, see the overlay).
      expect(c.envFrom).toEqual([
        { configMapRef: { name: configMap.metadata.name } },
        { secretRef: { name: 'tcss-rescan-secrets' } },
      ]);
    }
  }
});

test('PodDisruptionBudgets cover the workers and the servers', () => {
  const pdbs = base.filter((o) => o.kind === 'PodDisruptionBudget');
  for (const d of [worker, server]) {
    expect({
      d: d.metadata.name,
      covered: pdbs.some((p) =>
        Object.entries(p.spec.selector.matchLabels).every(([k, v]) => d.spec.template.metadata.labels[k] === v),
      ),
    }).toEqual({ d: d.metadata.name, covered: true });
  }
  expect(find(base, 'PodDisruptionBudget', 'tcss-rescan-worker').spec.minAvailable).toBe(1);
});

test('the schedules Job runs `schedules sync` on a valid schedules file from its ConfigMap', () => {
  const c = job.spec.template.spec.containers[0];
  expect(c.args.slice(0, 3)).toEqual(['schedules', 'sync', '--file']);
  const file = c.args[3] as string;
  const mount = (c.volumeMounts as { name: string; mountPath: string }[]).find((m) =>
    file.startsWith(`${m.mountPath}/`),
  )!;
  const volume = (job.spec.template.spec.volumes as { name: string; configMap: { name: string } }[]).find(
    (v) => v.name === mount.name,
  )!;
  const schedules = find(base, 'ConfigMap', volume.configMap.name);
  const text = schedules.data[path.basename(file)] as string;
  expect(parseSchedulesFile(text, { maxAssetsPerCall: 100 }).length).toBeGreaterThan(0);
});

test('only variables the configuration knows, plus the SDK role variables in the TKE overlay', () => {
  for (const name of Object.keys(configMap.data)) expect(CONFIG_VARIABLES).toContain(name);
  const overlayEnv = (
    find(overlay, 'Deployment', 'tcss-rescan-worker').spec.template.spec.containers[0].env as { name: string }[]
  ).map((e) => e.name);
  expect(overlayEnv.sort()).toEqual([
    'TENCENTCLOUD_ROLE_SESSION_NAME',
    'TKE_PROVIDER_ID',
    'TKE_REGION',
    'TKE_ROLE_ARN',
    'TKE_WEB_IDENTITY_TOKEN_FILE',
  ]);
  // The SDK's OIDC provider reads exactly these TKE_* names.
  const sdk = readFileSync(require.resolve('tencentcloud-sdk-nodejs-common/tencentcloud/common/credential.js'), 'utf8');
  for (const name of overlayEnv.filter((n) => n.startsWith('TKE_'))) expect(sdk).toContain(`process.env.${name}`);
  expect(overlay.filter((o) => o.metadata.namespace !== 'tcss-rescan').map((o) => o.kind)).toEqual([]);
});
