/**
 * Structured logs (pino, JSON on stdout). Secrets are redacted by path wherever they might be attached,
 * and the key material is never put into log objects in the first place (see tcss/client.ts).
 */
import pino, { type Logger } from 'pino';
import { redactError } from './redact';

export type { Logger };

export const REDACT_PATHS = [
  'secretKey',
  '*.secretKey',
  'sessionToken',
  '*.sessionToken',
  'token',
  '*.token',
  'credentials',
  '*.credentials',
  'authorization',
  '*.authorization',
  'headers.Authorization',
  '*.headers.Authorization',
];

export function createLogger(
  level: string,
  base: Record<string, unknown> = {},
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'tcss-rescan', pid: process.pid, ...base },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // Errors lose their Redis command arguments (a refused AUTH/HELLO carries the password) and URL passwords.
    serializers: { err: redactError, error: redactError },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // stdout unless told otherwise (tests read the lines from a stream of their own).
  return destination ? pino(options, destination) : pino(options);
}
