/**
 * The control routes under `/_sim/`: read the calls, the stats and the faults, change the faults,
 * reset. Each needs the control token (`Authorization: Bearer <token>`) and answers through the
 * simulator's public handle, so they can do nothing that code holding the handle could not.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { controlTokenMatches } from './access';
import { readBody, sendJson } from './http';
import { SimulatorOptionsError, type SimulatorFaults } from './options';
import type { Simulator } from './handle';

const KNOWN = ['/_sim/calls', '/_sim/stats', '/_sim/faults', '/_sim/reset'];

export async function handleControl(
  sim: Simulator,
  maxBodyBytes: number,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  if (!controlTokenMatches(req, sim.controlToken)) {
    return sendJson(
      res,
      401,
      {
        error:
          'the simulator controls need its control token: Authorization: Bearer <token> (printed at start, or set with --control-token / SIM_CONTROL_TOKEN)',
      },
      { 'WWW-Authenticate': 'Bearer' },
    );
  }
  const route = `${req.method ?? ''} ${path}`;
  if (route === 'GET /_sim/calls') return sendJson(res, 200, sim.calls(Number(query.get('since') ?? 0) || 0));
  if (route === 'GET /_sim/stats') return sendJson(res, 200, sim.stats(Number(query.get('windowMs') ?? 1000) || 1000));
  if (route === 'GET /_sim/faults') return sendJson(res, 200, sim.faults());
  if (route === 'POST /_sim/reset') {
    sim.reset();
    return sendJson(res, 200, { ok: true });
  }
  if (route === 'POST /_sim/faults') return setFaults(sim, maxBodyBytes, req, res);
  if (KNOWN.includes(path)) return sendJson(res, 405, { error: `${req.method ?? ''} is not allowed on ${path}` });
  return sendJson(res, 404, { error: `No such simulator endpoint ${path}; try ${KNOWN.join(', ')}` });
}

/** `POST /_sim/faults`: a JSON object of faults, validated; 400 naming the bad one. */
async function setFaults(
  sim: Simulator,
  maxBodyBytes: number,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const read = await readBody(req, maxBodyBytes);
  if (read === null) return;
  let input: unknown;
  try {
    input = JSON.parse(read.bytes.toString('utf8'));
  } catch {
    return sendJson(res, 400, {
      error: 'Invalid simulator faults: expected a JSON object, got a body that is not JSON',
    });
  }
  try {
    sim.setFaults(input as SimulatorFaults);
  } catch (e) {
    if (e instanceof SimulatorOptionsError) return sendJson(res, 400, { error: e.message });
    throw e;
  }
  return sendJson(res, 200, sim.faults());
}
