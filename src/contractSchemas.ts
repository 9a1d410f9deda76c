/**
 * The job contract as JSON Schema (draft 2020-12), generated from the zod schemas of job.ts with
 * zod 4's z.toJSONSchema, for producers and readers in other languages. The files under schemas/ are
 * this module's output, checked in and shipped in the npm package; a test fails when they are stale.
 *
 *   npm run schemas     (re)writes schemas/rescan-job.schema.json and schemas/rescan-result.schema.json
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { rescanJobDataSchema, rescanRequestSchema, rescanResultSchema } from './job';

/** The schemas' `$id`s: names, not addresses (the files are in the repository and the package). */
export const SCHEMA_BASE_ID = 'urn:tcss-rescan:schema:';

export type JsonSchema = Record<string, unknown>;

function toSchema(schema: z.ZodType, io: 'input' | 'output', id?: string): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'throw' }) as JsonSchema;
  return id ? { $schema: json.$schema, $id: SCHEMA_BASE_ID + id, ...json } : json;
}

/** What a job on the queue carries (what the worker accepts). */
export const jobJsonSchema = (): JsonSchema => toSchema(rescanJobDataSchema, 'input', 'rescan-job');
/** A job's return value and a TaskId stream record. */
export const resultJsonSchema = (): JsonSchema => {
  // Readers should accept fields added later (only optional ones are ever added).
  const { additionalProperties: _open, ...rest } = toSchema(rescanResultSchema, 'output', 'rescan-result');
  return rest;
};
/** One rescan as accepted at the door (HTTP API, producer): before splitting and deduplication. */
export const requestJsonSchema = (): JsonSchema => {
  const { $schema: _drop, ...rest } = toSchema(rescanRequestSchema, 'input');
  return rest;
};

/** The checked-in files: name under schemas/ -> content (with a final newline). */
export function schemaFiles(): Record<string, string> {
  return {
    'rescan-job.schema.json': `${JSON.stringify(jobJsonSchema(), null, 2)}\n`,
    'rescan-result.schema.json': `${JSON.stringify(resultJsonSchema(), null, 2)}\n`,
  };
}

if (require.main === module) {
  const dir = path.join(__dirname, '..', 'schemas');
  for (const [name, text] of Object.entries(schemaFiles())) {
    writeFileSync(path.join(dir, name), text);
    process.stdout.write(`wrote schemas/${name}\n`);
  }
}
