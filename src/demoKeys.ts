/**
 * The simulator's demo key pair. It is public: it opens only a local simulator (never Tencent Cloud),
 * and a run without keys uses it on a loopback endpoint. A leaf module (no imports), so that the
 * configuration can name the pair without loading the simulator (an HTTP server and a TC3 verifier).
 */
export const DEMO_SECRET_ID = 'AKIDsimulatorDEMO0000000000000000000';
export const DEMO_SECRET_KEY = 'simulatorDemoSecretKey0000000000';

/** The pair as the configuration holds credentials (frozen: one object shared by every Config). */
export const DEMO_CREDENTIALS: Readonly<{ secretId: string; secretKey: string }> = Object.freeze({
  secretId: DEMO_SECRET_ID,
  secretKey: DEMO_SECRET_KEY,
});
