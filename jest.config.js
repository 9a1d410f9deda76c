/** One test command for developers and CI: `npm test` (builds dist/ first, integration tests spawn it). */
module.exports = {
  // Node's environment, plus a check that fails a test file that leaves timers, sockets, servers or
  // child processes open after its last test (test/support/openHandlesEnvironment.ts).
  testEnvironment: '<rootDir>/test/support/openHandlesEnvironment.ts',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // test/timing/ runs after the rest, alone (its own config): its assertions are about arrival times.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/timing/'],
  transform: {
    '^.+\\.ts$': 'ts-jest',
    // content-disposition 3 (under @bull-board/fastify -> @fastify/static) ships ES modules only. Node 20
    // loads it with require(esm); jest's module system cannot (before Node 24.9), so it is compiled to
    // CommonJS for the tests.
    '/node_modules/content-disposition/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', esModuleInterop: true }, isolatedModules: true },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
  testTimeout: 60000,
  // Integration tests spawn worker processes and a Redis server; two cores, so keep it modest.
  maxWorkers: 2,
};
