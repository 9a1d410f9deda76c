/** One test command for developers and CI: `npm test` (builds dist/ first, integration tests spawn it). */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
  testTimeout: 60000,
  // Integration tests spawn worker processes and a Redis server; two cores, so keep it modest.
  maxWorkers: 2,
};
