/**
 * What is built from a Config, written once: the producer's options, the record store, and the
 * configuration of a run that starts its own simulator. (The budget a configuration's calls spend is
 * tcss/scanBudget.ts: it needs the TCSS client's action name, which the CLI should not load.)
 */
import type { Redis } from 'ioredis';
import type { Config } from './config';
import { DEMO_CREDENTIALS } from './demoKeys';
import type { ProducerOptions } from './producer';
import { RecordStore } from './records';

/**
 * The producer's options from the configuration: where Redis is, the queue, the job options
 * (`TCSS_MAX_ASSETS_PER_CALL`, `TCSS_MAX_ATTEMPTS`, `TCSS_BACKOFF_MS`) and `PRODUCER_TIMEOUT_MS`.
 * Callers add what is theirs (the server's smaller bulk chunks) after the spread.
 */
export function producerOptionsFrom(config: Config): ProducerOptions {
  return {
    redisUrl: config.redisUrl,
    redis: config.redis,
    queueName: config.queueName,
    maxAssetsPerCall: config.tcss.maxAssetsPerCall,
    maxAttempts: config.tcss.maxAttempts,
    backoffMs: config.tcss.backoffMs,
    timeoutMs: config.producerTimeoutMs,
  };
}

/** The TaskId records of the configured queue (`RECORDS_MAX_LEN`, `RECORD_TTL_DAYS`), through `redis`. */
export function recordStoreFrom(config: Config, redis: Redis): RecordStore {
  return new RecordStore(redis, {
    queueName: config.queueName,
    maxLen: config.recordsMaxLen,
    ttlSeconds: config.recordTtlSeconds,
  });
}

/**
 * The configuration pointed at a simulator this process started (`npm start` without keys, `npm run
 * demo`): its URL as the endpoint, and the simulator's public demo pair as the keys, whatever the
 * environment holds, so that such a run can never call the real API.
 */
export function withDemoCredentials(config: Config, simulatorUrl: string): Config {
  return {
    ...config,
    tcss: {
      ...config.tcss,
      endpoint: new URL(simulatorUrl),
      credentials: { ...DEMO_CREDENTIALS },
      usingDemoCredentials: true,
      credentialSource: 'demo',
    },
  };
}
