/**
 * A stand-in for the TCSS endpoint (`POST /`, ScanComplianceAssetsByPolicyItem), faithful to
 * tcss-api.md: TC3 signature checks, the gateway's order of checks, HTTP 200 with Tencent's response
 * shape, a per-(sub-account, action) sliding window by arrival, and faults to inject. It also answers
 * the STS actions the worker needs (GetCallerIdentity, AssumeRole; see sts.ts) and checks X-TC-Token
 * for temporary keys. It records every TCSS call for read-back (capped), in process (`calls()`,
 * `stats()`) and over HTTP (`/_sim/*`, behind a control token; never a secret key).
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  parseSimulatorFaults,
  resolveSimulatorOptions,
  SimulatorOptionsError,
  type ResolvedSimulatorOptions,
  type SimulatorFaults,
  type SimulatorOptions,
} from './options';
import { missingResourceError } from './missingResources';
import { parseBody, rawPolicyItemId, readScanFields, validateScanParams, type ParsedBody } from './scanParams';
import { controlTokenMatches, exposedWarning, hostAllowed, newControlToken } from './access';
import { KeyRegistry, type KeyOwner } from './accounts';
import { maxInWindow, monotonicClock, SlidingWindow } from './slidingWindow';
import { answerSts, STS_ACTIONS, STS_SERVICE, STS_VERSION } from './sts';
import { verifyTc3Request } from './tc3';

export const TCSS_SERVICE = 'tcss';
export const TCSS_VERSION = '2020-11-01';
export const SCAN_ACTION = 'ScanComplianceAssetsByPolicyItem';

/** One API request as the simulator saw it (background arrivals are not calls). */
export interface SimulatorCall {
  /** 1-based, in order of arrival; not reset by `reset()`. */
  seq: number;
  /** Arrival time in ms (`performance.timeOrigin + performance.now()`), taken on the 'request' event. */
  arrivalMs: number;
  /** SecretId from the Authorization header (as claimed when auth failed; '' when unreadable). */
  secretId: string;
  /** The rate-limit principal (`uin:<sub-account>` or `role:<owner>/<roleId>`) once authenticated; '' before. */
  principal: string;
  /** X-TC-Action as sent ('' when missing). */
  action: string;
  policyItemId?: number;
  assetIds?: number[];
  assetType?: string;
  /** 'OK' or the Tencent error code answered. */
  code: string;
  /** The error message, for errors. */
  message?: string;
  taskId?: number;
  requestId: string;
  /** Passed the rate limit, so it spent budget (whatever its final code). */
  admitted: boolean;
  /** Never answered (hangRate). */
  hung: boolean;
}

export interface WindowPeaks {
  /** Calls admitted by the rate limit. */
  admitted: number;
  /** Most admitted calls from clients in any window of `windowMs` by arrival. */
  maxInAnyWindow: number;
  /** The same, counting admitted background arrivals too. */
  maxInAnyWindowWithBackground: number;
}

export interface SimulatorStats extends WindowPeaks {
  /** API calls received (the length of `calls()`). */
  total: number;
  /** Calls answered with TaskIds. */
  accepted: number;
  /** Calls refused with RequestLimitExceeded. */
  throttled: number;
  hung: number;
  /** Requests whose socket was destroyed because `unreachable` was on (not in `calls()`). */
  dropped: number;
  byCode: Record<string, number>;
  /** Background arrivals, one per sub-account per tick. */
  background: { arrivals: number; admitted: number; throttled: number };
  windowMs: number;
  bySecretId: Record<string, WindowPeaks>;
}

export interface Simulator {
  /** e.g. `http://127.0.0.1:4010` */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The bearer token `/_sim/*` requires (`Authorization: Bearer <token>`). */
  readonly controlToken: string;
  /** Why the simulator is exposed, when it is (also emitted as a process warning at start). */
  readonly warnings: readonly string[];
  /** Calls with `seq > sinceSeq` (default all), in seq order. */
  calls(sinceSeq?: number): SimulatorCall[];
  stats(windowMs?: number): SimulatorStats;
  /** The faults now in force, secret keys left out. */
  faults(): PublicFaults;
  /** STS calls (GetCallerIdentity, AssumeRole), kept apart from the TCSS calls; capped like them. */
  stsCalls(): SimulatorCall[];
  /** Validates and applies a partial set of faults; throws SimulatorOptionsError naming a bad one. */
  setFaults(faults: SimulatorFaults): void;
  /** Clears the call log, the windows and the counters (TaskIds and seq keep counting). */
  reset(): void;
  /** Stops listening and destroys every connection, hung ones included. */
  close(): Promise<void>;
}

/** The faults as `faults()` and `GET /_sim/faults` show them: each key's SecretId and UIN, never its SecretKey. */
export type PublicFaults = Omit<Required<SimulatorFaults>, 'credentials'> & { credentials: { secretId: string; uin?: string }[] };

interface Outcome {
  code: string;
  message?: string;
  secretId: string;
  principal?: string;
  admitted: boolean;
  taskId?: number;
  /** The answer of an STS action. */
  sts?: Record<string, unknown>;
}

/** An API request once its body is in. */
interface ReceivedRequest {
  bytes: Buffer;
  tooLarge: boolean;
  /** The body parsed on first use (auth failures never parse it). */
  body: () => ParsedBody;
  arrivalMs: number;
  path: string;
  query: string;
}

const API_ERROR_MESSAGES: Record<string, string> = {
  InternalError: 'An internal error has occurred. Retry your request, but if the problem persists, contact us.',
};

function rateLimitMessage(count: number, limit: number): string {
  return (
    `Your current request times equals to \`${count}\` in a second, which exceeds the frequency limit \`${limit}\` ` +
    'for a second. Please reduce the frequency of calls.'
  );
}

function headerString(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Reads the body, keeping at most `limit` bytes (the rest is drained); null if the client went away. */
function readBody(req: IncomingMessage, limit: number): Promise<{ bytes: Buffer; tooLarge: boolean } | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => resolve({ bytes: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge }));
    req.on('error', () => resolve(null));
    req.on('close', () => {
      if (!req.complete) resolve(null);
    });
  });
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const opts: ResolvedSimulatorOptions = resolveSimulatorOptions(options);
  let faults: Required<SimulatorFaults> = pickFaults(opts);
  const clock = monotonicClock;
  const limiter = new SlidingWindow({ limit: faults.rateLimit, countThrottled: faults.countThrottled, clock });
  const keyRegistry = new KeyRegistry(faults.credentials);
  const controlToken = opts.controlToken !== '' ? opts.controlToken : newControlToken();
  const warnings = [exposedWarning(opts.host)].filter((w): w is string => w !== undefined);
  for (const w of warnings) process.emitWarning(w, 'SimulatorWarning');
  let stsLog: SimulatorCall[] = [];

  let nextTaskId = opts.firstTaskId;
  let nextSeq = 1;
  let log: SimulatorCall[] = [];
  let dropped = 0;
  const background = { arrivals: 0, admitted: 0, throttled: 0, admittedTimes: new Map<string, number[]>() };
  const pendingTimers = new Set<NodeJS.Timeout>();
  let closed = false;

  const windowKey = (principal: string, action: string): string => `${principal}\u0000${action}`;
  /** One background consumer per sub-account of the configured keys. */
  const backgroundPrincipals = (): string[] => [
    ...new Set(faults.credentials.map((c) => keyRegistry.lookup(c.secretId)?.principal).filter((p): p is string => p !== undefined)),
  ];

  // Background consumer: arrivals at start + k * 1000 / rps. They are replayed up to each real
  // arrival before it is checked (so order is exact), and by a timer when no calls come in.
  let bgStart = clock();
  let bgEmitted = 0;
  let bgTimer: NodeJS.Timeout | undefined;

  const catchUpBackground = (upTo: number): void => {
    const rps = faults.backgroundRps;
    if (rps <= 0) return;
    const spacing = 1000 / rps;
    // After a long stall, forget the backlog beyond what any window can still see.
    const oldestUseful = upTo - 2000;
    if (bgStart + bgEmitted * spacing < oldestUseful) bgEmitted = Math.ceil((oldestUseful - bgStart) / spacing);
    for (let t = bgStart + bgEmitted * spacing; t <= upTo; t = bgStart + ++bgEmitted * spacing) {
      for (const principal of backgroundPrincipals()) {
        background.arrivals++;
        if (limiter.tryAcquire(windowKey(principal, SCAN_ACTION), t).admitted) {
          background.admitted++;
          const times = background.admittedTimes.get(principal) ?? [];
          times.push(t);
          // Only the last seconds matter to any window: the list stays short.
          if (times.length > 4 * faults.rateLimit + 100) times.splice(0, times.length - (4 * faults.rateLimit + 100));
          background.admittedTimes.set(principal, times);
        } else {
          background.throttled++;
        }
      }
    }
  };

  const restartBackground = (): void => {
    if (bgTimer !== undefined) clearInterval(bgTimer);
    bgTimer = undefined;
    bgStart = clock();
    bgEmitted = 0;
    const rps = faults.backgroundRps;
    if (rps <= 0 || closed) return;
    const tickMs = Math.min(100, Math.max(10, 1000 / rps));
    bgTimer = setInterval(() => catchUpBackground(clock()), tickMs);
    bgTimer.unref();
  };
  restartBackground();

  const ownerOf = (secretId: string): KeyOwner | undefined =>
    faults.revokedSecretIds.includes(secretId) ? undefined : keyRegistry.lookup(secretId);

  /** The gateway's checks, in its order; the first failure is the answer. */
  const evaluate = (req: IncomingMessage, received: ReceivedRequest): Outcome => {
    const { bytes, tooLarge, body, arrivalMs, path, query } = received;
    const fail = (code: string, message: string, secretId = '', admitted = false): Outcome => ({ code, message, secretId, admitted });
    if (req.method !== 'POST') {
      return fail('UnsupportedProtocol', `The simulator accepts only POST with a JSON body, got ${req.method ?? '(no method)'}.`);
    }
    if (tooLarge) return fail('RequestSizeLimitExceeded', `The request body exceeds the limit of ${opts.maxBodyBytes} bytes.`);

    // The action picks the product (on the real gateway, the host does): its service must sign it.
    const action = headerString(req, 'x-tc-action') ?? '';
    const isSts = STS_ACTIONS.has(action);
    const nowMs = Date.now() + faults.clockOffsetMs;
    const auth = verifyTc3Request({
      method: 'POST',
      path,
      query,
      headers: req.headers,
      body: bytes,
      service: isSts ? STS_SERVICE : TCSS_SERVICE,
      nowMs,
      resolveSecretKey: (id) => ownerOf(id)?.secretKey,
    });
    if (!auth.ok) return fail(auth.code, auth.message, auth.secretId);
    const secretId = auth.secretId;
    const owner = ownerOf(secretId) as KeyOwner;
    // Temporary keys carry their token; a missing, wrong or expired one is refused.
    if (owner.token !== undefined) {
      const token = headerString(req, 'x-tc-token');
      const expired = (owner.expiresAtMs ?? 0) <= nowMs;
      if (token !== owner.token || expired) {
        const why = token === undefined ? 'X-TC-Token is missing' : expired ? 'the temporary key has expired' : 'X-TC-Token does not match the key';
        return fail('AuthFailure.TokenFailure', `Token verification failed: ${why}.`, secretId);
      }
    }

    const product = { version: isSts ? STS_VERSION : TCSS_VERSION };
    if (!isSts && action !== SCAN_ACTION) {
      return fail('InvalidAction', `The action \`${action}\` is not found (the simulator implements only ${SCAN_ACTION}).`, secretId);
    }
    const version = headerString(req, 'x-tc-version') ?? '';
    if (version !== product.version) {
      return fail('NoSuchVersion', `The API version \`${version}\` does not exist (expected ${product.version}).`, secretId);
    }

    // Tencent counts per sub-account and action, not per key (tcss-api.md, "How Tencent counts").
    if (!isSts) catchUpBackground(arrivalMs);
    const admission = limiter.tryAcquire(windowKey(owner.principal, action), arrivalMs);
    if (!admission.admitted) {
      return { ...fail('RequestLimitExceeded', rateLimitMessage(admission.count, faults.rateLimit), secretId), principal: owner.principal };
    }
    if (isSts) {
      const answer = answerSts(action, owner, body(), keyRegistry, faults.temporaryCredentialsTtlMs, Date.now());
      if (!answer.ok) return { ...fail(answer.code, answer.message, secretId, true), principal: owner.principal };
      return { code: 'OK', secretId, principal: owner.principal, admitted: true, sts: answer.response };
    }
    const admitted = (code: string, message: string): Outcome => ({ ...fail(code, message, secretId, true), principal: owner.principal });

    const forced = faults.forcedErrors[rawPolicyItemId(body()) ?? ''];
    if (forced !== undefined) {
      return admitted(forced, `Simulated ${forced} for this CustomerPolicyItemId (forcedErrors).`);
    }
    if (faults.errorRate > 0 && Math.random() < faults.errorRate) {
      const code = faults.errorCode;
      return admitted(code, API_ERROR_MESSAGES[code] ?? `Simulated ${code} (errorRate).`);
    }
    const contentType = headerString(req, 'content-type')?.split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json') {
      return admitted('InvalidRequest', `Content-Type must be application/json, got ${contentType ?? '(none)'}.`);
    }
    const params = validateScanParams(body());
    if (!params.ok) return admitted(params.error.code, params.error.message);
    const missing = missingResourceError(params.params, faults);
    if (missing) return admitted(missing.code, missing.message);
    return { code: 'OK', secretId, principal: owner.principal, admitted: true, taskId: nextTaskId++ };
  };

  /** Keeps at most maxCalls (the oldest go first, in batches so that a push stays cheap). */
  const capped = (calls: SimulatorCall[]): void => {
    if (calls.length > opts.maxCalls) calls.splice(0, calls.length - opts.maxCalls + Math.ceil(opts.maxCalls / 10));
  };
  const record = (call: SimulatorCall): void => {
    if (STS_ACTIONS.has(call.action)) {
      stsLog.push(call);
      capped(stsLog);
      return;
    }
    log.push(call);
    capped(log);
    // Calls are decided once their body is in, so a slow body can finish after a later arrival.
    for (let i = log.length - 1; i > 0 && (log[i - 1] as SimulatorCall).seq > call.seq; i--) {
      log[i] = log[i - 1] as SimulatorCall;
      log[i - 1] = call;
    }
  };

  const handleApi = async (req: IncomingMessage, res: ServerResponse, receivedMs: number, path: string, query: string): Promise<void> => {
    // arrivalJitterMs: the request "arrives" (is counted) up to that many ms after it was received.
    const jitterMs = faults.arrivalJitterMs > 0 ? Math.random() * faults.arrivalJitterMs : 0;
    const arrivalMs = receivedMs + jitterMs;
    if (jitterMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          pendingTimers.delete(timer);
          resolve();
        }, jitterMs);
        pendingTimers.add(timer);
      });
      if (closed) return;
    }
    const seq = nextSeq++;
    const read = await readBody(req, opts.maxBodyBytes);
    if (read === null || closed) return;
    let parsed: ParsedBody | undefined;
    const body = (): ParsedBody => (parsed ??= parseBody(read.bytes));
    const outcome = evaluate(req, { bytes: read.bytes, tooLarge: read.tooLarge, body, arrivalMs, path, query });
    const requestId = randomUUID();
    const hung = faults.hangRate > 0 && Math.random() < faults.hangRate;
    const action = headerString(req, 'x-tc-action') ?? '';
    record({
      seq,
      arrivalMs,
      // Unauthenticated requests keep nothing of what they claim (the log is capped, not their size).
      secretId: outcome.principal !== undefined ? outcome.secretId : outcome.secretId.slice(0, 64),
      principal: outcome.principal ?? '',
      action: action.slice(0, 64),
      ...(outcome.admitted && !read.tooLarge && !STS_ACTIONS.has(action) ? readScanFields(body()) : {}),
      code: outcome.code,
      ...(outcome.message !== undefined ? { message: outcome.message } : {}),
      ...(outcome.taskId !== undefined ? { taskId: outcome.taskId } : {}),
      requestId,
      admitted: outcome.admitted,
      hung,
    });
    // A hung call keeps its socket open with no answer; close() destroys it.
    if (hung) return;

    const response =
      outcome.code === 'OK'
        ? { Response: outcome.sts !== undefined ? { ...outcome.sts, RequestId: requestId } : { TaskId: outcome.taskId, RequestId: requestId } }
        : { Response: { Error: { Code: outcome.code, Message: outcome.message ?? outcome.code }, RequestId: requestId } };
    const traceId = headerString(req, 'x-tc-traceid');
    const answer = (): void => sendJson(res, 200, response, traceId !== undefined ? { 'X-TC-TraceId': traceId } : {});
    const delay = faults.latencyMs + Math.random() * faults.latencyJitterMs;
    if (delay <= 0) return answer();
    const timer = setTimeout(() => {
      pendingTimers.delete(timer);
      answer();
    }, delay);
    pendingTimers.add(timer);
  };

  const sim: Simulator = {
    url: '',
    host: opts.host,
    port: 0,
    controlToken,
    warnings,
    calls: (sinceSeq = 0) => log.filter((c) => c.seq > sinceSeq).map((c) => ({ ...c })),
    stsCalls: () => stsLog.map((c) => ({ ...c })),
    stats: (windowMs = 1000) => {
      catchUpBackground(clock());
      return computeStats(log, background, dropped, windowMs);
    },
    faults: () => ({ ...faults, credentials: faults.credentials.map(({ secretId, uin }) => ({ secretId, ...(uin !== undefined ? { uin } : {}) })) }),
    setFaults: (partial) => {
      const next = parseSimulatorFaults(partial);
      catchUpBackground(clock());
      const backgroundChanged = next.backgroundRps !== undefined && next.backgroundRps !== faults.backgroundRps;
      faults = { ...faults, ...next };
      if (next.credentials !== undefined) keyRegistry.setCredentials(faults.credentials);
      limiter.setLimit(faults.rateLimit);
      limiter.setCountThrottled(faults.countThrottled);
      if (backgroundChanged) restartBackground();
    },
    reset: () => {
      log = [];
      stsLog = [];
      dropped = 0;
      limiter.reset();
      background.arrivals = 0;
      background.admitted = 0;
      background.throttled = 0;
      background.admittedTimes.clear();
      restartBackground();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      if (bgTimer !== undefined) clearInterval(bgTimer);
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };

  const handleAdmin = async (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> => {
    if (!controlTokenMatches(req, controlToken)) {
      return sendJson(res, 401, { error: 'the simulator controls need its control token: Authorization: Bearer <token> (printed at start, or set with --control-token / SIM_CONTROL_TOKEN)' }, { 'WWW-Authenticate': 'Bearer' });
    }
    const route = `${req.method ?? ''} ${path}`;
    if (route === 'GET /_sim/calls') return sendJson(res, 200, sim.calls(Number(query.get('since') ?? 0) || 0));
    if (route === 'GET /_sim/stats') return sendJson(res, 200, sim.stats(Number(query.get('windowMs') ?? 1000) || 1000));
    if (route === 'GET /_sim/faults') return sendJson(res, 200, sim.faults());
    if (route === 'POST /_sim/reset') {
      sim.reset();
      return sendJson(res, 200, { ok: true });
    }
    if (route === 'POST /_sim/faults') {
      const read = await readBody(req, opts.maxBodyBytes);
      if (read === null) return;
      let input: unknown;
      try {
        input = JSON.parse(read.bytes.toString('utf8'));
      } catch {
        return sendJson(res, 400, { error: 'Invalid simulator faults: expected a JSON object, got a body that is not JSON' });
      }
      try {
        sim.setFaults(input as SimulatorFaults);
      } catch (e) {
        if (e instanceof SimulatorOptionsError) return sendJson(res, 400, { error: e.message });
        throw e;
      }
      return sendJson(res, 200, sim.faults());
    }
    const known = ['/_sim/calls', '/_sim/stats', '/_sim/faults', '/_sim/reset'];
    if (known.includes(path)) return sendJson(res, 405, { error: `${req.method ?? ''} is not allowed on ${path}` });
    return sendJson(res, 404, { error: `No such simulator endpoint ${path}; try ${known.join(', ')}` });
  };

  const server = http.createServer((req, res) => {
    const arrivalMs = clock();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = q === -1 ? '' : rawUrl.slice(q + 1);
    // DNS rebinding: bound to loopback, a request naming another host came from a page, not from us.
    if (!hostAllowed(opts.host, req.headers.host, opts.allowedHosts)) {
      sendJson(res, 421, { error: 'the simulator answers only loopback Host names (127.0.0.1, localhost, [::1]) when bound to loopback' });
      return;
    }

    let handled: Promise<void>;
    if (path.startsWith('/_sim/')) {
      handled = handleAdmin(req, res, path, new URLSearchParams(query));
    } else if (path !== '/') {
      sendJson(res, 404, { error: `Not found: the TCSS API is served at POST /, simulator controls under /_sim/` });
      return;
    } else if (faults.unreachable) {
      dropped++;
      req.socket.destroy();
      return;
    } else {
      handled = handleApi(req, res, arrivalMs, path, query);
    }
    handled.catch((e: unknown) => {
      sendJson(res, 500, { error: e instanceof Error ? e.message : String(e) });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return Object.assign(sim, { port, url: `http://${urlHost}:${port}` });
}

function pickFaults(opts: ResolvedSimulatorOptions): Required<SimulatorFaults> {
  const { host: _host, port: _port, firstTaskId: _first, maxBodyBytes: _max, controlToken: _token, allowedHosts: _hosts, maxCalls: _maxCalls, ...faults } = opts;
  return faults;
}

function computeStats(
  log: readonly SimulatorCall[],
  background: { arrivals: number; admitted: number; throttled: number; admittedTimes: Map<string, number[]> },
  dropped: number,
  windowMs: number,
): SimulatorStats {
  const byCode: Record<string, number> = {};
  const admittedBySecretId = new Map<string, number[]>();
  let hung = 0;
  for (const call of log) {
    byCode[call.code] = (byCode[call.code] ?? 0) + 1;
    if (call.hung) hung++;
    if (call.admitted) {
      const times = admittedBySecretId.get(call.secretId) ?? [];
      times.push(call.arrivalMs);
      admittedBySecretId.set(call.secretId, times);
    }
  }
  const peaks = (clientTimes: number[], backgroundTimes: number[]): WindowPeaks => ({
    admitted: clientTimes.length,
    maxInAnyWindow: maxInWindow(clientTimes, windowMs),
    maxInAnyWindowWithBackground: maxInWindow([...clientTimes, ...backgroundTimes], windowMs),
  });
  const bySecretId: Record<string, WindowPeaks> = {};
  for (const secretId of new Set([...admittedBySecretId.keys(), ...background.admittedTimes.keys()])) {
    bySecretId[secretId] = peaks(admittedBySecretId.get(secretId) ?? [], background.admittedTimes.get(secretId) ?? []);
  }
  const all = peaks([...admittedBySecretId.values()].flat(), [...background.admittedTimes.values()].flat());
  return {
    total: log.length,
    accepted: byCode.OK ?? 0,
    throttled: byCode.RequestLimitExceeded ?? 0,
    ...all,
    hung,
    dropped,
    byCode,
    background: { arrivals: background.arrivals, admitted: background.admitted, throttled: background.throttled },
    windowMs,
    bySecretId,
  };
}
