/**
 * Checks across variables, which the schema (one variable at a time) cannot make. Run on the raw
 * values, so that they are reported even when another variable is invalid.
 */
import { ConfigError, shown } from './errors';
import type { ServerConfig } from './types';

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Problems across variables in the cleaned environment (set, non-blank values only). */
export function crossVariableProblems(cleaned: Record<string, string>): string[] {
  const problems: string[] = [];
  const haveId = cleaned.TENCENTCLOUD_SECRET_ID !== undefined;
  const haveKey = cleaned.TENCENTCLOUD_SECRET_KEY !== undefined;
  if (haveId !== haveKey) {
    problems.push(
      `${haveId ? 'TENCENTCLOUD_SECRET_KEY' : 'TENCENTCLOUD_SECRET_ID'}: expected it to be set together with ${haveId ? 'TENCENTCLOUD_SECRET_ID' : 'TENCENTCLOUD_SECRET_KEY'}, got nothing`,
    );
  }
  for (const name of ['TCSS_ENDPOINT', 'TENCENTCLOUD_STS_ENDPOINT'] as const) {
    const raw = cleaned[name]?.trim();
    if (raw !== undefined && URL.canParse(raw)) {
      const u = new URL(raw);
      if (u.pathname !== '/' || u.search !== '')
        problems.push(`${name}: expected a URL without a path or query, got ${shown(name, raw)}`);
      else if (u.username !== '' || u.password !== '')
        problems.push(
          `${name}: expected a URL without a user or password (credentials go in TENCENTCLOUD_SECRET_ID/KEY), got ${shown(name, raw)}`,
        );
    }
  }
  const source = cleaned.TENCENTCLOUD_CREDENTIALS?.trim();
  if (source === 'role' && cleaned.TENCENTCLOUD_ROLE_ARN === undefined) {
    problems.push('TENCENTCLOUD_ROLE_ARN: expected a role ARN with TENCENTCLOUD_CREDENTIALS=role, got nothing');
  }
  if (source === 'role' && !haveId) {
    problems.push(
      'TENCENTCLOUD_SECRET_ID: expected the keys that assume the role (TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY) with TENCENTCLOUD_CREDENTIALS=role, got nothing',
    );
  }
  if (source === 'env' && !haveId) {
    problems.push(
      'TENCENTCLOUD_SECRET_ID: expected TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY with TENCENTCLOUD_CREDENTIALS=env, got nothing',
    );
  }
  return problems;
}

/**
 * The server refuses to start without credentials, unless it listens on loopback only and the
 * operator turned auth off explicitly (SERVER_AUTH=off).
 */
export function requireServerAccess(server: ServerConfig): void {
  if (!server.authEnabled) {
    if (!isLoopback(server.host)) {
      throw new ConfigError([
        `SERVER_AUTH: expected on when SERVER_HOST is not loopback, got "off" with SERVER_HOST=${JSON.stringify(server.host)}`,
      ]);
    }
    return;
  }
  if (server.password === undefined && server.apiToken === undefined) {
    throw new ConfigError([
      'SERVER_PASSWORD: expected a password (basic auth, user SERVER_USER) or SERVER_API_TOKEN (bearer) for the dashboard and the API, got nothing; on loopback only, SERVER_AUTH=off turns auth off',
    ]);
  }
}
