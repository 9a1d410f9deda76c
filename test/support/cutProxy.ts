/**
 * A TCP proxy in front of Redis that can cut a client off part-way through what it sends: it forwards
 * the client's commands one by one until `cutBefore(args)` says stop, holds that command and everything
 * after it, and hands the test the moment and the proxy's own address as Redis sees it. The test then
 * waits until Redis has run what was forwarded (CLIENT LIST) and drops the connection: the failure a
 * transaction must survive (network cut, process killed) at a point of the test's choosing.
 *
 *   const proxy = await CutProxy.start(testRedisUrl(), (args) => args[0] === 'exec');
 */
import net from 'node:net';

/** Splits a client's byte stream into complete commands (RESP arrays of bulk strings, as ioredis sends). */
class CommandReader {
  private buf = Buffer.alloc(0);

  /** Appends `chunk`; returns the complete commands now available, each with its raw bytes. */
  push(chunk: Buffer): { raw: Buffer; args: string[] }[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: { raw: Buffer; args: string[] }[] = [];
    for (;;) {
      const parsed = this.parseOne();
      if (!parsed) return out;
      out.push({ raw: this.buf.subarray(0, parsed.end), args: parsed.args });
      this.buf = this.buf.subarray(parsed.end);
    }
  }

  private line(from: number): { text: string; next: number } | undefined {
    const end = this.buf.indexOf('\r\n', from);
    return end < 0 ? undefined : { text: this.buf.toString('latin1', from, end), next: end + 2 };
  }

  private parseOne(): { args: string[]; end: number } | undefined {
    const header = this.line(0);
    if (!header) return undefined;
    if (!header.text.startsWith('*'))
      throw new Error(`cut proxy: expected a RESP array from the client, got ${JSON.stringify(header.text)}`);
    const n = Number(header.text.slice(1));
    const args: string[] = [];
    let at = header.next;
    for (let i = 0; i < n; i++) {
      const len = this.line(at);
      if (!len) return undefined;
      const size = Number(len.text.slice(1));
      if (this.buf.length < len.next + size + 2) return undefined;
      args.push(this.buf.toString('utf8', len.next, len.next + size));
      at = len.next + size + 2;
    }
    return { args, end: at };
  }
}

export class CutProxy {
  /** Resolves when a command matched `cutBefore`: the upstream connection's address as Redis lists it (CLIENT LIST addr=). */
  readonly cutReached: Promise<string>;
  private reachCut!: (upstreamAddr: string) => void;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly cutBefore: (args: string[]) => boolean,
    private readonly target: { host: string; port: number },
  ) {
    this.cutReached = new Promise((resolve) => (this.reachCut = resolve));
    server.on('connection', (client) => this.pipe(client));
  }

  /** A proxy to the Redis at `redisUrl`; `cutBefore` gets each command's arguments (name lower-cased). */
  static async start(redisUrl: string, cutBefore: (args: string[]) => boolean = () => false): Promise<CutProxy> {
    const u = new URL(redisUrl);
    const server = net.createServer();
    const proxy = new CutProxy(server, cutBefore, { host: u.hostname, port: Number(u.port || 6379) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.target);
    this.sockets.add(client).add(upstream);
    const reader = new CommandReader();
    let cut = false;
    client.on('data', (chunk: Buffer) => {
      for (const { raw, args } of reader.push(chunk)) {
        if (!cut && this.cutBefore([args[0]!.toLowerCase(), ...args.slice(1)])) {
          cut = true;
          this.reachCut(`${upstream.localAddress}:${upstream.localPort}`);
        }
        if (!cut) upstream.write(raw);
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    for (const s of [client, upstream]) {
      s.on('error', () => undefined); // a cut connection errors on the other side: expected
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
  }

  /** Drops every connection at once (both sides), as a network cut or a killed process would. */
  drop(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
