/**
 * Who may talk to the simulator: a Host check against DNS rebinding (a web page whose name resolves
 * to 127.0.0.1 must not reach it), and the control token that `/_sim/*` requires.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * True for addresses only this machine can reach. `*.localhost` names are loopback by definition (RFC
 * 6761, section 6.3) and no public DNS answers them, so a rebinding page cannot use one; the official
 * SDKs need such a name (`tcss.localhost`) to sign for service `tcss`.
 */
export function isLoopbackAddress(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The name in a Host header, without the port. */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/**
 * Bound to loopback, only loopback Host values are served (a rebinding page sends its own name). Bound
 * elsewhere, the operator chose to be reachable by other names, so any Host is accepted.
 */
export function hostAllowed(
  boundHost: string,
  hostHeader: string | undefined,
  allowed: readonly string[] = [],
): boolean {
  if (!isLoopbackAddress(boundHost)) return true;
  if (hostHeader === undefined) return false;
  const name = hostName(hostHeader);
  return isLoopbackAddress(name) || allowed.some((a) => a.toLowerCase() === name);
}

export function newControlToken(): string {
  return randomBytes(24).toString('base64url');
}

/** `Authorization: Bearer <token>` with the control token (constant-time comparison). */
export function controlTokenMatches(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length).trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The warning for a simulator reachable from other machines. */
export function exposedWarning(host: string): string | undefined {
  if (isLoopbackAddress(host)) return undefined;
  return (
    `the TCSS simulator listens on ${host}, reachable from other machines: anyone who can reach it can ` +
    'call it with the keys it knows; /_sim/* still needs the control token. Bind it to 127.0.0.1 unless this is a private network.'
  );
}
