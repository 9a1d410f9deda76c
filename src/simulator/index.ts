/** The stand-in TCSS endpoint: start it, point a client at `sim.url`, read back what it saw. */
export { startSimulator } from './simulator';
export type { Simulator } from './handle';
export type { SimulatorCall } from './callLog';
export type { SimulatorStats, WindowPeaks } from './stats';
export type { PublicFaults } from './faults';
export { SCAN_ACTION, TCSS_SERVICE, TCSS_VERSION } from './scanAction';
export { STS_ACTIONS, STS_SERVICE, STS_VERSION } from './sts';
export { defaultUin, MAX_TEMPORARY } from './accounts';
export { isLoopbackAddress } from './access';
export {
  DEMO_SECRET_ID,
  DEMO_SECRET_KEY,
  DEMO_SUB_ACCOUNT_UIN,
  SIM_OWNER_UIN,
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
