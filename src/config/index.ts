/**
 * Configuration: the only module that reads process.env (and `.env`).
 *
 * One schema, one defaults table (the zod defaults), one parse, validated at once. A bad value stops
 * start-up with a message naming the variable, what was expected and what was received.
 *
 *   schema.ts       every variable: parser, default, documentation (parsers.ts: the parsers)
 *   load.ts         environment -> Config (`.env` loading, every problem at once)
 *   checks.ts       checks across variables, and the server's access rule
 *   redis.ts        the REDIS section (single, Sentinel, Cluster, TLS)
 *   credentials.ts  where keys come from, the key pair, the demo pair on loopback
 *   errors.ts       ConfigError, and how a received value is shown
 *   types.ts        the Config type
 *   reference.ts    docs/configuration.md, generated from schema.ts
 */
export { requireServerAccess } from './checks';
export { requireCredentials } from './credentials';
export { ConfigError } from './errors';
export { loadConfig, loadConfigOverriding } from './load';
export { CONFIG_VARIABLES, CREDENTIAL_SOURCES } from './schema';
export type { CredentialSource } from './schema';
export type { Config, Credentials, HostPort, RedisConfig, ServerConfig, TcssConfig } from './types';
