/** The stand-in TCSS endpoint: start it, point a client at `sim.url`, read back what it saw. */
export { startSimulator, SCAN_ACTION, TCSS_SERVICE, TCSS_VERSION } from './simulator';
export type { Simulator, SimulatorCall, SimulatorStats, WindowPeaks } from './simulator';
export {
  DEMO_SECRET_ID,
  DEMO_SECRET_KEY,
  defaultSimulatorOptions,
  parseSimulatorFaults,
  resolveSimulatorOptions,
  SimulatorOptionsError,
} from './options';
export type { SimulatorCredential, SimulatorFaults, SimulatorOptions } from './options';
export { maxInWindow, monotonicClock, SlidingWindow } from './slidingWindow';
export type { Admission, Clock, SlidingWindowOptions } from './slidingWindow';
export { signTc3, verifyTc3Request } from './tc3';
export type { SignTc3Input, SignTc3Result, Tc3VerifyResult, VerifyTc3Input } from './tc3';
