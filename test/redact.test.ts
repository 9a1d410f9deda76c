/**
 * What errors may show (src/redact.ts): ioredis's command arguments and URL passwords never reach a log
 * line or the CLI; the config's messages use the same masking (a bad REDIS_URL port, userinfo in
 * TCSS_ENDPOINT).
 */
import { Writable } from 'node:stream';
import { ConfigError, loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { errorMessage, maskUrlPasswords, redactError, redactText } from '../src/redact';

const PW = 'pa$$-w0rd-SECRET';

/** An error shaped as ioredis builds a refused handshake (DataHandler.returnError / event_handler.ts). */
function refusedLogin(): Error {
  return Object.assign(new Error('WRONGPASS invalid username-password pair or user is disabled.'), {
    name: 'ReplyError',
    command: { name: 'hello', args: ['3', 'AUTH', 'default', PW] },
  });
}

test.each([
  [`redis://:${PW}@127.0.0.1:6379`, 'redis://:***@127.0.0.1:6379'],
  [`redis://user:${PW}@127.0.0.1:99999`, 'redis://user:***@127.0.0.1:99999'],
  [`rediss://u:p@ss/w:rd@host:6379x/0`, 'rediss://u:***@host:6379x/0'],
  [
    `see https://AKID:${PW}@tcss.example.com/api and redis://h:1`,
    'see https://AKID:***@tcss.example.com/api and redis://h:1',
  ],
  ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
])('maskUrlPasswords(%j)', (input, expected) => {
  expect(maskUrlPasswords(input)).toBe(expected);
});

test("Redis's echo of arguments is cut", () => {
  expect(redactText(`ERR unknown command 'HELLO', with args beginning with: '3' 'AUTH' 'default' '${PW}'`)).toBe(
    "ERR unknown command 'HELLO', with args beginning with: [redacted]",
  );
});

test('redactError drops command arguments at any depth and keeps what helps', () => {
  const err = refusedLogin();
  const wrapped = Object.assign(new Error('queue failed'), {
    inner: { command: { name: 'auth', args: [PW] } },
    errors: [refusedLogin()],
  });
  const text = JSON.stringify([redactError(err), redactError(wrapped)]);
  expect(text).not.toContain(PW);
  expect(redactError(err)).toMatchObject({
    type: 'Error',
    message: expect.stringContaining('WRONGPASS'),
    command: { name: 'hello', args: '[4 redacted]' },
  });
  expect(errorMessage(err)).toBe('WRONGPASS invalid username-password pair or user is disabled.');
});

test('the logger redacts errors under err and error', () => {
  let out = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  });
  const onSink = createLogger('info', {}, sink);
  onSink.error({ err: refusedLogin() }, 'redis');
  onSink.warn({ error: refusedLogin() }, 'redis');
  expect(out).toContain('WRONGPASS');
  expect(out).not.toContain(PW);
});

describe('config errors mask passwords', () => {
  function problems(env: NodeJS.ProcessEnv): string[] {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  }

  test.each([
    `redis://:${PW}@127.0.0.1:99999`,
    `redis://default:${PW}@127.0.0.1:63x79`,
    `redis://u:${PW}/x@127.0.0.1:99999`,
  ])('a bad REDIS_URL port: %s', (url) => {
    const p = problems({ REDIS_URL: url });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^REDIS_URL: /);
    expect(p[0]).toContain('***@127.0.0.1');
    expect(p[0]).not.toContain(PW);
  });

  test.each([`https://AKID:${PW}@tcss.example.com`, `https://AKID:${PW}@tcss.example.com/api`])(
    'userinfo in TCSS_ENDPOINT is refused, masked: %s',
    (url) => {
      const p = problems({ TCSS_ENDPOINT: url });
      expect(p).toHaveLength(1);
      expect(p[0]).toMatch(/^TCSS_ENDPOINT: /);
      expect(p[0]).toContain('AKID:***@tcss.example.com');
      expect(p[0]).not.toContain(PW);
    },
  );
});
