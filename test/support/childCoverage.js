/**
 * Jest setup file (test/support/jest.coverage.config.js): the processes a test spawns with this
 * environment (workers, servers and CLI commands from dist/) write V8 coverage into
 * TCSS_CHILD_COVERAGE_DIR (Node's NODE_V8_COVERAGE, read when a process starts). Set here, in the test
 * file's environment, and not for the jest workers themselves: they are measured by jest, and
 * NODE_V8_COVERAGE in their own environment would cost them a second, unused measurement.
 */
const dir = process.env.TCSS_CHILD_COVERAGE_DIR;
if (dir) process.env.NODE_V8_COVERAGE = dir;
