#!/usr/bin/env node
/**
 * `npm test`'s main jest phase with coverage of what the tests run in-process (src/, through ts-jest,
 * measured by jest) AND in the processes they spawn (workers, servers and CLI commands run from dist/,
 * measured by V8 through NODE_V8_COVERAGE), merged per src/ file and printed. Arguments go to jest.
 *
 *   node test/support/coverage.js [jest arguments]       exit status: jest's, or 1 if the report failed
 *   node test/support/coverage.js --report-only          the report again, from the last run's files
 *
 * dist/ has no source maps (the package ships none, test/package.test.ts). So after the tests the same
 * sources are compiled again with maps into coverage/tmp/dist-maps; a file whose JavaScript differs from
 * the dist/ file that ran is left out (and named), so that no count lands on the wrong line. The maps
 * are handed to c8 (`.c8rc.json`) in the coverage files' `source-map-cache`, as Node itself records
 * maps. Children killed with SIGKILL write no coverage (V8 writes it at exit): helpers that stop their
 * processes with SIGTERM get counted. The timing tests and the fault suite run without coverage: their
 * assertions are about calls per second.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const root = path.join(__dirname, '..', '..');
const out = path.join(root, 'coverage');
const dir = {
  raw: path.join(out, 'tmp', 'children-raw'),
  children: path.join(out, 'tmp', 'children'),
  maps: path.join(out, 'tmp', 'dist-maps'),
  inProcess: path.join(out, 'in-process'),
  childReport: path.join(out, 'children'),
};
const dist = path.join(root, 'dist');

function run(args, env = {}) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

/** Compiles src/ again with source maps (not into dist/); returns dist file path -> its map, for identical files. */
function distMaps() {
  const status = run([
    require.resolve('typescript/bin/tsc'),
    '-p',
    'tsconfig.build.json',
    '--sourceMap',
    '--declaration',
    'false',
    '--outDir',
    dir.maps,
  ]);
  if (status !== 0) throw new Error(`tsc with source maps exited ${status}`);
  const maps = new Map();
  const differ = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) {
        const rel = path.relative(dir.maps, p);
        const ran = path.join(dist, rel);
        const mapped = fs.readFileSync(p, 'utf8').replace(/\n\/\/# sourceMappingURL=[^\n]*\s*$/, '\n');
        if (!fs.existsSync(ran) || fs.readFileSync(ran, 'utf8') !== mapped) {
          differ.push(rel);
          continue;
        }
        const map = JSON.parse(fs.readFileSync(`${p}.map`, 'utf8'));
        // Absolute sources: the map is applied to dist/<rel>, not where it was written.
        map.sources = map.sources.map((s) => path.resolve(path.dirname(p), map.sourceRoot ?? '', s));
        delete map.sourceRoot;
        maps.set(ran, map);
      }
    }
  };
  walk(dir.maps);
  if (differ.length > 0)
    console.warn(
      `coverage: left out (dist/ differs from a fresh compile; rebuild with npm run build): ${differ.join(', ')}`,
    );
  return maps;
}

/** Keeps the dist/ scripts of each child's coverage file, with their maps; returns how many processes wrote one. */
function prepareChildCoverage(maps) {
  fs.mkdirSync(dir.children, { recursive: true });
  const files = fs.existsSync(dir.raw) ? fs.readdirSync(dir.raw).filter((f) => f.endsWith('.json')) : [];
  const processes = new Set();
  for (const f of files) {
    const raw = JSON.parse(fs.readFileSync(path.join(dir.raw, f), 'utf8'));
    const result = [];
    const cache = {};
    for (const script of raw.result ?? []) {
      if (!script.url.startsWith('file://')) continue;
      const file = decodeURIComponent(new URL(script.url).pathname);
      const map = maps.get(file);
      if (map === undefined) continue;
      result.push(script);
      cache[pathToFileURL(file).href] = { data: map };
    }
    if (result.length === 0) continue;
    processes.add(f.split('-')[1]);
    fs.writeFileSync(path.join(dir.children, f), JSON.stringify({ result, 'source-map-cache': cache }));
  }
  return processes.size;
}

function report() {
  const libCoverage = require('istanbul-lib-coverage');
  const libReport = require('istanbul-lib-report');
  const reports = require('istanbul-reports');

  const processes = prepareChildCoverage(distMaps());
  // c8 turns the children's V8 coverage into istanbul's format, on src/ (.c8rc.json).
  const status = run([
    require.resolve('c8/bin/c8.js'),
    'report',
    '--temp-directory',
    dir.children,
    '--reports-dir',
    dir.childReport,
  ]);
  if (status !== 0) throw new Error(`c8 report exited ${status}`);

  const read = (file) => (fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {});
  const inProcess = libCoverage.createCoverageMap(read(path.join(dir.inProcess, 'coverage-final.json')));
  const merged = libCoverage.createCoverageMap(read(path.join(dir.inProcess, 'coverage-final.json')));
  merged.merge(read(path.join(dir.childReport, 'coverage-final.json')));
  fs.writeFileSync(path.join(out, 'coverage-final.json'), JSON.stringify(merged));
  // Files the tests never loaded in-process count as 0 there too, so that the two totals compare.
  for (const file of merged.files()) {
    if (inProcess.files().includes(file)) continue;
    const none = merged.fileCoverageFor(file).toJSON();
    const zero = (counts) =>
      Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Array.isArray(v) ? v.map(() => 0) : 0]));
    inProcess.addFileCoverage({ ...none, s: zero(none.s), f: zero(none.f), b: zero(none.b) });
  }

  const context = libReport.createContext({ dir: out, coverageMap: merged, defaultSummarizer: 'nested' });
  console.log(
    `\ncoverage of src/: the tests in-process and ${processes} process(es) they spawned (dist/, mapped to src/)`,
  );
  reports.create('text', { maxCols: 120 }).execute(context);
  const pct = (map) => {
    const s = map.getCoverageSummary();
    return ['lines', 'branches', 'functions'].map((k) => `${k} ${s[k].pct}%`).join(', ');
  };
  console.log(
    `in-process only: ${pct(inProcess)}\nwith the spawned processes: ${pct(merged)}\n(coverage/coverage-final.json; raw V8 files of the children in coverage/tmp)`,
  );
}

// `--report-only`: report again on the coverage the last run left (no tests).
const reportOnly = process.argv[2] === '--report-only';
let jestStatus = 0;
if (!reportOnly) {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(dir.raw, { recursive: true });
  jestStatus = run(
    [require.resolve('jest/bin/jest'), '-c', path.join(__dirname, 'jest.coverage.config.js'), ...process.argv.slice(2)],
    { TCSS_CHILD_COVERAGE_DIR: dir.raw },
  );
}
let reportStatus = 0;
try {
  report();
} catch (err) {
  console.error(`coverage: no report: ${err instanceof Error ? err.stack : String(err)}`);
  reportStatus = 1;
}
process.exit(jestStatus !== 0 ? jestStatus : reportStatus);
