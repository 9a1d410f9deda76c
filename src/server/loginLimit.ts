/**
 * Failed logins per client address: after SERVER_LOGIN_MAX_FAILURES wrong passwords or tokens within
 * SERVER_LOGIN_WINDOW_SECONDS (default 10 in 300 s), every request from that address gets 429 with `Retry-After` until the window
 * ends, the right credentials included (otherwise a guesser would learn when it guessed right). A
 * request without credentials (a browser's first try, before the login prompt) is no failure.
 *
 * The counts live in Redis (`tcss-rescan:<queue>:login-failures:<address>`, expiring with the window),
 * so replicas of the server share them. If Redis cannot be asked, the check lets the request through
 * to the credential check rather than lock everyone out; the failure is logged.
 *
 * The client address is the socket's (Fastify `req.ip`); behind a reverse proxy every client would share
 * the proxy's address, see docs/security.md.
 */
import type { Redis } from 'ioredis';
import { keys } from '../keys';
import type { Logger } from '../logger';

export interface LoginFailure {
  address: string;
  /** Which credential was wrong. */
  scheme: 'basic' | 'bearer';
  /** For basic auth: whether the user name was the configured one (the name itself is not logged: people type passwords there). */
  knownUser?: boolean;
}

export class LoginLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly queueName: string,
    private readonly logger: Logger,
    private readonly max: number,
    private readonly windowSeconds: number,
  ) {}

  /** Seconds until `address` may try again, or undefined when it may now. */
  async blockedFor(address: string): Promise<number | undefined> {
    const key = keys.loginFailures(this.queueName, address);
    try {
      const [count, ttl] = await Promise.all([this.redis.get(key), this.redis.ttl(key)]);
      if (Number(count ?? 0) < this.max) return undefined;
      return Math.max(1, ttl);
    } catch (err) {
      this.logger.warn(
        { err, address },
        'login limit: could not read the failure count; letting the request through to the credential check',
      );
      return undefined;
    }
  }

  /** Counts one failure and logs it (never the password or token). */
  async fail(f: LoginFailure): Promise<void> {
    const key = keys.loginFailures(this.queueName, f.address);
    let failures: number | undefined;
    try {
      const res = await this.redis.multi().set(key, '0', 'EX', this.windowSeconds, 'NX').incr(key).exec();
      failures = Number(res?.[1]?.[1] ?? NaN);
    } catch (err) {
      this.logger.warn({ err, address: f.address }, 'login limit: could not count a failed login');
    }
    this.logger.warn(
      { event: 'login_failed', ...f, failures, limit: this.max, windowSeconds: this.windowSeconds },
      'login failed',
    );
  }
}
