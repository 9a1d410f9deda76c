/**
 * Where a server really listens, seen from outside it: the kernel's table of listening sockets (Linux),
 * and connections tried from this machine's other addresses. For "listens on loopback" checks that do
 * not trust a default value.
 */
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { networkInterfaces } from 'node:os';

/** A /proc/net/tcp{,6} address (hex, 32-bit words in host byte order, little-endian here) as text. */
function procAddress(hex: string): string {
  if (hex.length === 8) return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++)
    for (const i of [3, 2, 1, 0]) bytes.push(parseInt(hex.slice(w * 8 + i * 2, w * 8 + i * 2 + 2), 16));
  const groups = Array.from({ length: 8 }, (_, g) => ((bytes[2 * g]! << 8) | bytes[2 * g + 1]!).toString(16));
  // SocketAddress prints the canonical (compressed) form: '::1', '::'.
  return new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

/**
 * The local addresses of every socket listening on TCP `port` (IPv4 and IPv6), from the kernel; undefined
 * where /proc/net/tcp does not exist (not Linux).
 */
export function listeningAddresses(port: number): string[] | undefined {
  if (!existsSync('/proc/net/tcp')) return undefined;
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== '0A') continue; // 0A: LISTEN
      const [addr, p] = local.split(':') as [string, string];
      if (parseInt(p, 16) === port) out.push(procAddress(addr));
    }
  }
  return out;
}

/** This machine's addresses other than loopback (and IPv6 link-local, which needs a scope to connect). */
export function nonLoopbackAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a): a is NonNullable<typeof a> => a !== undefined && !a.internal && !a.address.startsWith('fe80:'))
    .map((a) => a.address);
}

/** Tries one TCP connection: 'connected', 'refused', or 'no answer' after `timeoutMs`. */
export function tryConnect(
  host: string,
  port: number,
  timeoutMs = 2000,
): Promise<'connected' | 'refused' | 'no answer'> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: 'connected' | 'refused' | 'no answer') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('no answer'), timeoutMs);
    socket.once('connect', () => done('connected'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'no answer'));
  });
}

/**
 * Runs `fn` with a listener on every interface (0.0.0.0 and ::), so a check that another address
 * refuses can first show that this address accepts at all (no firewall makes the refusal meaningless).
 */
export async function withOpenListener<T>(fn: (port: number) => Promise<T>): Promise<T> {
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '::', ipv6Only: false }, resolve);
  });
  try {
    return await fn((server.address() as net.AddressInfo).port);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}
