/**
 * The public surface, kept short on purpose: the producer API, the job contract and the config type.
 * Everything else (worker internals, the limiter, the simulator) is reached through the CLI.
 */
export { RescanProducer, validateAll } from './producer';
export type { EnqueueOptions, EnqueueResult, ProducerOptions } from './producer';
export { ASSET_TYPES, JOB_NAME, ValidationError, parseRescanRequest, parseRescanJobData } from './job';
export type { AssetType, RescanJobData, RescanRequest, RescanResult } from './job';
export { ConfigError, loadConfig } from './config';
export { RedisUnavailableError } from './redisFailFast';
export { IdempotencyConflictError } from './idempotency';
export { ProblemsError } from './problems';
export type { Config, RedisConfig } from './config';
