/**
 * The fault suite (`npm run test:faults`): long scenarios (kill -9, Redis restarts, API outages, revoked
 * keys, ...) that end with one invariant (test/support/faultInvariant.ts). Files are `*.fault.ts`, so
 * `npm test` does not pick them up. Same transform and Redis setup as the main config; one file at a
 * time, because each scenario measures calls per second on a 2-core machine.
 */
const path = require('node:path');
const base = require('../../jest.config.js');

module.exports = {
  ...base,
  rootDir: path.join(__dirname, '..', '..'),
  roots: ['<rootDir>/test/faults'],
  testMatch: ['**/*.fault.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  globalSetup: '<rootDir>/test/faults/globalSetup.ts',
  globalTeardown: '<rootDir>/test/faults/globalTeardown.ts',
  testTimeout: 240_000,
  maxWorkers: 1,
};
