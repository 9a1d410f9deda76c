/**
 * The tests whose assertions are about time: arrivals at the API (at most 20 calls in any second, no
 * throttled call: worker processes, Redis and the simulator over HTTP), spacing of Bottleneck's calls
 * across connections, and how long /healthz waits while the server parses big requests. They run after
 * the rest of `npm test`, one file at a time and without coverage, so that no other suite's CPU use (a
 * Chromium, a six-node Redis Cluster) and no instrumentation becomes their jitter on a 2-core machine
 * (a CI run failed with the probe test's longest CPU stretch at 503 ms against 500 under coverage).
 * Same transform and Redis setup as the main config.
 */
const path = require('node:path');
const base = require('../../jest.config.js');

module.exports = {
  ...base,
  rootDir: path.join(__dirname, '..', '..'),
  roots: ['<rootDir>/test/timing'],
  testPathIgnorePatterns: ['/node_modules/'],
  maxWorkers: 1,
};
