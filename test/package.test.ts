/**
 * What `npm pack` would publish (`npm pack --dry-run --json`, after the build): the schemas and the
 * schedules example, no source maps pointing at files it does not ship, an `exports` map whose every
 * target is in the package, and `engines` that the production dependencies accept (checked with
 * semver against each one's own `engines`, and by loading the ES-module-only ones on this Node).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';

const root = path.join(__dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  exports: Record<string, string | Record<string, string>>;
  main: string;
  types: string;
  bin: Record<string, string>;
};

function packedFiles(): string[] {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
  const [info] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
  return info!.files.map((f) => f.path);
}
const files = packedFiles();

/**
 * Dependencies that declare a newer Node than we do but work on every Node our `engines` allows: they
 * ship ES modules only and are loaded with require(esm), which Node enabled by default in 20.19.0 and
 * 22.12.0 (and 23+). Hence our range `^20.19.0 || >=22.12.0`: Node 22.0 to 22.11 cannot load them.
 */
const ESM_ONLY_WANTING_22 = ['content-disposition', 'cookie'];

test('ships the contract schemas, the schedules example, the CLI and the probe', () => {
  for (const f of [
    'schemas/rescan-job.schema.json',
    'schemas/rescan-result.schema.json',
    'examples/schedules.yaml',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/cli.js',
    'dist/healthcheck.js',
    '.env.example',
    'README.md',
    'package.json',
  ]) {
    expect(files).toContain(f);
  }
  expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
});

test('no source map points at a file the package does not ship', () => {
  for (const map of files.filter((f) => f.endsWith('.map'))) {
    const { sources } = JSON.parse(readFileSync(path.join(root, map), 'utf8')) as { sources: string[] };
    for (const s of sources)
      expect({ map, source: s, shipped: files.includes(path.posix.join(path.posix.dirname(map), s)) }).toEqual({
        map,
        source: s,
        shipped: true,
      });
  }
  // Today there are none at all.
  expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
});

test('an exports map whose every target is shipped, agreeing with main, types and bin', () => {
  const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
  expect(targets.length).toBeGreaterThan(3);
  for (const t of targets) expect({ t, shipped: files.includes(t.replace(/^\.\//, '')) }).toEqual({ t, shipped: true });
  expect(pkg.exports['.']).toEqual({ types: `./${pkg.types}`, default: `./${pkg.main}` });
  for (const bin of Object.values(pkg.bin)) expect(files).toContain(bin);
});

test('engines: every production dependency accepts every Node we accept, or is a known ES-module-only one that loads here', () => {
  const r = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8' });
  const dirs = r.stdout.trim().split('\n').slice(1);
  expect(dirs.length).toBeGreaterThan(50);
  const mismatched: string[] = [];
  for (const dir of dirs) {
    const dep = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      name: string;
      engines?: { node?: string };
    };
    const wants = dep.engines?.node;
    if (!wants || !semver.validRange(wants)) continue;
    if (!semver.subset(pkg.engines.node, wants)) mismatched.push(dep.name);
  }
  expect([...new Set(mismatched)].sort()).toEqual(ESM_ONLY_WANTING_22);
  // They do load through require() on this Node (CI runs Node 20).
  const load = spawnSync(
    process.execPath,
    ['-e', ESM_ONLY_WANTING_22.map((m) => `require(${JSON.stringify(m)})`).join(';')],
    { cwd: root, encoding: 'utf8' },
  );
  expect({ status: load.status, stderr: load.stderr }).toEqual({ status: 0, stderr: '' });
  expect(semver.satisfies(process.versions.node, pkg.engines.node)).toBe(true);
  // The range leaves out the Node 22 releases without require(esm) by default.
  expect(semver.satisfies('22.11.0', pkg.engines.node)).toBe(false);
  expect(semver.satisfies('20.18.3', pkg.engines.node)).toBe(false);
});
