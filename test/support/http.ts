/** HTTP helpers the server tests share. */

/** An `Authorization` header value for HTTP Basic. */
export const basicAuth = (user: string, pass: string): string =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/** Fetches `url`: the status, the text, the body parsed as JSON (undefined when it is not JSON), the headers. */
export async function fetchAnswer(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
}
