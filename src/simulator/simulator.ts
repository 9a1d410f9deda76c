/**
 * A stand-in for the TCSS endpoint (`POST /`, ScanComplianceAssetsByPolicyItem), faithful to
 * docs/tcss-api.md: TC3 signature checks, the gateway's order of checks, HTTP 200 with Tencent's response
 * shape, a per-(sub-account, action) sliding window by arrival, and faults to inject. It also answers
 * the STS actions the worker needs (GetCallerIdentity, AssumeRole; see sts.ts) and checks X-TC-Token
 * for temporary keys. It records every TCSS call for read-back (capped), in process (`calls()`,
 * `stats()`) and over HTTP (`/_sim/*`, behind a control token; never a secret key).
 *
 * This file puts the parts together; docs/simulator.md lists them ("The code").
 */
import { exposedWarning, newControlToken } from './access';
import { handleApiRequest } from './apiRequest';
import { handleControl } from './controlRoutes';
import { createHandle, type Simulator } from './handle';
import { resolveSimulatorOptions, type SimulatorOptions } from './options';
import { createSimulatorServer, listen } from './server';
import { createSimulatorState } from './state';

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const opts = resolveSimulatorOptions(options);
  const state = createSimulatorState(opts);
  const controlToken = opts.controlToken !== '' ? opts.controlToken : newControlToken();
  const warnings = [exposedWarning(opts.host)].filter((w): w is string => w !== undefined);
  for (const w of warnings) process.emitWarning(w, 'SimulatorWarning');

  const server = createSimulatorServer(state, {
    api: (req, res, arrivalMs, path, query) => handleApiRequest(state, req, res, arrivalMs, path, query),
    // `sim` is assigned below, before the server listens, so before any request.
    control: (req, res, path, query) => handleControl(sim, opts.maxBodyBytes, req, res, path, query),
  });
  const sim = createHandle(state, server, controlToken, warnings);
  const port = await listen(server, opts.port, opts.host);
  const urlHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return Object.assign(sim, { port, url: `http://${urlHost}:${port}` });
}
