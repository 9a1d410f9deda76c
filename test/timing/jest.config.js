/**
 * The end-to-end tests whose assertions are about arrival times at the API (at most 20 calls in any
 * second, no throttled call): worker processes, Redis and the simulator over HTTP. They run after the
 * rest of `npm test`, one file at a time, so that no other suite's CPU use (a Chromium, a six-node
 * Redis Cluster) becomes their send-to-arrival jitter on a 2-core machine. Same transform and Redis
 * setup as the main config.
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
