/**
 * The simulator's HTTP server and its routing: the Host check first, then `/_sim/*` to the control
 * routes and `POST /` to the API; anything else is 404. While `unreachable` is on, API requests have
 * their socket destroyed, as if the API were down.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostAllowed } from './access';
import { sendJson } from './http';
import type { SimulatorState } from './state';

export interface Routes {
  /** `POST /` (any method: the API answers a wrong one); `arrivalMs` is when the request came in. */
  api: (req: IncomingMessage, res: ServerResponse, arrivalMs: number, path: string, query: string) => Promise<void>;
  /** `/_sim/*`. */
  control: (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) => Promise<void>;
}

export function createSimulatorServer(state: SimulatorState, routes: Routes): http.Server {
  const { opts, clock, faults, log } = state;
  return http.createServer((req, res) => {
    const arrivalMs = clock();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = q === -1 ? '' : rawUrl.slice(q + 1);
    // DNS rebinding: bound to loopback, a request naming another host came from a page, not from us.
    if (!hostAllowed(opts.host, req.headers.host, opts.allowedHosts)) {
      sendJson(res, 421, {
        error: 'the simulator answers only loopback Host names (127.0.0.1, localhost, [::1]) when bound to loopback',
      });
      return;
    }

    let handled: Promise<void>;
    if (path.startsWith('/_sim/')) {
      handled = routes.control(req, res, path, new URLSearchParams(query));
    } else if (path !== '/') {
      sendJson(res, 404, { error: `Not found: the TCSS API is served at POST /, simulator controls under /_sim/` });
      return;
    } else if (faults.settings.unreachable) {
      log.countDropped();
      req.socket.destroy();
      return;
    } else {
      handled = routes.api(req, res, arrivalMs, path, query);
    }
    handled.catch((e: unknown) => {
      sendJson(res, 500, { error: e instanceof Error ? e.message : String(e) });
    });
  });
}

/** Listens on `host:port` (0: a free port) and resolves with the port. */
export async function listen(server: http.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Stops listening and destroys every connection, hung ones included. */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
