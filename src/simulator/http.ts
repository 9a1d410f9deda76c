/** The HTTP plumbing the simulator's routes share: reading a header, a body, and answering JSON. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Headers as Node hands them over (lower-case names; a repeated header as an array). */
export type ReceivedHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** One header's value; a repeated header joined with commas, as HTTP defines. */
export function headerValue(headers: ReceivedHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function headerString(req: IncomingMessage, name: string): string | undefined {
  return headerValue(req.headers, name);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
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
export function readBody(req: IncomingMessage, limit: number): Promise<{ bytes: Buffer; tooLarge: boolean } | null> {
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
