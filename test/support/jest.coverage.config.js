/**
 * The main jest phase with coverage (run by test/support/coverage.js, not directly): the main config,
 * plus V8 coverage of the code the tests run in-process (src/, through ts-jest) and a setup file that
 * makes the processes the tests spawn (dist/, the built CLI) write theirs too.
 */
const path = require('node:path');
const base = require('../../jest.config.js');

const root = path.join(__dirname, '..', '..');

module.exports = {
  ...base,
  rootDir: root,
  collectCoverage: true,
  coverageProvider: 'v8',
  collectCoverageFrom: ['src/**/*.ts'],
  coverageDirectory: path.join(root, 'coverage', 'in-process'),
  coverageReporters: ['json'],
  setupFiles: [...(base.setupFiles ?? []), path.join(__dirname, 'childCoverage.js')],
};
