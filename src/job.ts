/**
 * The job contract: what other services put on the queue. Public: other services (and other languages'
 * BullMQ clients) depend on it, so it is documented in the README and changes only compatibly.
 *
 *   queue  QUEUE_NAME (default "tcss-rescan"), job name "rescan"
 *   data   {"policyItemId": 2798, "assetIds": [2202462], "assetType": "ASSET_CONTAINER", "batchId": "..."}
 *
 * The same schema is checked at the door (producer, CLI) and again in the worker.
 */
import { z } from 'zod';
import { ProblemsError, formatPath, quoteValue } from './problems';

export const JOB_NAME = 'rescan';

/** The asset types ScanComplianceAssetsByPolicyItem documents for `AssetType`. */
export const ASSET_TYPES = [
  'ASSET_CONTAINER',
  'ASSET_IMAGE',
  'ASSET_HOST',
  'ASSET_K8S',
  'ASSET_CONTAINERD',
  'ASSET_CONTAINERD_CONTAINER',
] as const;
export type AssetType = (typeof ASSET_TYPES)[number];

const id = (what: string) =>
  z
    .number({ error: (iss) => `${what} must be a positive whole number, got ${quoteValue(iss.input)}` })
    .refine((n) => Number.isSafeInteger(n) && n > 0, {
      error: (iss) => `${what} must be a positive whole number no larger than 2^53-1, got ${quoteValue(iss.input)}`,
    })
    // What the refinement checks, said in JSON Schema (z.toJSONSchema cannot read a refinement).
    .meta({ type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

/** A rescan request as accepted at the door (before splitting and deduplication). */
export const rescanRequestSchema = z.strictObject(
  {
    policyItemId: id('policyItemId'),
    assetIds: z
      .array(id('each asset id'), {
        error: (iss) => `assetIds must be an array of asset ids, got ${quoteValue(iss.input)}`,
      })
      .min(1, { error: 'assetIds must contain at least one asset id' }),
    assetType: z
      .enum(ASSET_TYPES, {
        error: (iss) => `assetType must be one of ${ASSET_TYPES.join(', ')}, got ${quoteValue(iss.input)}`,
      })
      .optional(),
  },
  {
    error: (iss) =>
      iss.code === 'unrecognized_keys' ? undefined : `a rescan must be an object, got ${quoteValue(iss.input)}`,
  },
);
export type RescanRequest = z.infer<typeof rescanRequestSchema>;

/** What a job carries: a request with at most TCSS_MAX_ASSETS_PER_CALL unique assets, and its batch. */
export const rescanJobDataSchema = rescanRequestSchema
  .extend({
    assetIds: rescanRequestSchema.shape.assetIds
      .refine((ids) => new Set(ids).size === ids.length, { error: 'assetIds must not contain duplicates' })
      .meta({ uniqueItems: true }),
    /** Shared by the jobs one request was split into. */
    batchId: z
      .string({ error: (iss) => `batchId must be a string of 1 to 200 characters, got ${quoteValue(iss.input)}` })
      .min(1, { error: 'batchId must be a string of 1 to 200 characters, got ""' })
      .max(200, {
        error: (iss) =>
          `batchId must be a string of 1 to 200 characters, got ${String((iss.input as string).length)} characters`,
      })
      .optional(),
  })
  .meta({
    title: 'tcss-rescan job data',
    description: 'The data of a job named "rescan" on the queue QUEUE_NAME (BullMQ)',
  });
export type RescanJobData = z.infer<typeof rescanJobDataSchema>;

/**
 * The JSON of a call's record (CallRecord: in the TaskId stream, the call's asset ids) and of a job's
 * result (RescanJobResult: the job's return value and per-job record, that job's asset ids): one shape,
 * so one schema. See records.ts. Written only by our workers; the schema documents it for readers in
 * any language (schemas/rescan-result.schema.json) and may gain optional fields, so readers should
 * accept unknown ones.
 */
export const rescanResultSchema = z
  .object({
    taskId: z.union([z.number().int().positive().max(Number.MAX_SAFE_INTEGER), z.string().regex(/^[1-9]\d*$/)]).meta({
      description:
        'The TaskId the API returned for the call, exactly: a JSON number up to 2^53-1, its decimal text (a string) beyond',
    }),
    requestId: z.string().min(1).meta({ description: "The API's RequestId for the call" }),
    policyItemId: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    assetIds: z
      .array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER))
      .min(1)
      .meta({ description: "In the stream: every asset id of the call. In a job's result: the job's own." }),
    assetType: z.enum(ASSET_TYPES).optional(),
    jobIds: z
      .array(z.string())
      .min(1)
      .meta({ description: "In the stream: every job the call covered. In a job's result: that job." }),
    callJobs: z
      .number()
      .int()
      .positive()
      .optional()
      .meta({ description: "In a job's result: how many jobs the call covered (more than one when merged)" }),
    callAssets: z
      .number()
      .int()
      .positive()
      .optional()
      .meta({ description: "In a job's result: how many unique assets the call covered" }),
    calledAt: z.iso.datetime().meta({ description: 'When the API answered (ISO 8601, UTC)' }),
    fromRecord: z.boolean().optional().meta({
      description: 'True when the record existed already and no call was made (the job ran again after a crash)',
    }),
  })
  .meta({ title: 'tcss-rescan result', description: "A rescan job's return value, and a record of the TaskId stream" });

/** What identifies a job for good: its id and creation time (ms). */
export interface JobRef {
  id: string;
  timestamp: number;
}

/**
 * One call's record, as the TaskId stream holds it (records.ts): every asset id and every job the
 * call covered.
 */
export interface CallRecord {
  /** Exact: a number up to 2^53-1, its decimal text beyond. */
  taskId: number | string;
  requestId: string;
  policyItemId: number;
  /** Every asset id of the call. */
  assetIds: number[];
  assetType?: AssetType;
  /** Every job the call covered. */
  jobIds: string[];
  /** When the API answered (ISO 8601, UTC). */
  calledAt: string;
}

/**
 * A job's result: what the job returns and what its per-job key holds (records.ts). The call's TaskId
 * and RequestId, the job's own assets and id, and how many jobs and assets the call covered.
 */
export interface RescanJobResult extends CallRecord {
  /** The job's own asset ids. */
  assetIds: number[];
  /** This job's id alone. */
  jobIds: string[];
  /** How many jobs the call covered (more than one when merged). Absent in records of early versions. */
  callJobs?: number;
  /** How many unique assets the call covered. Absent in records of early versions. */
  callAssets?: number;
  /** True when the record existed already and no call was made (the job ran again after a crash). */
  fromRecord?: boolean;
}

/** A job's result (RescanJobResult): the name the package has exported since its first version. */
export type RescanResult = RescanJobResult;

/** The types above and the schema say the same: a compile error here when they drift apart. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
export type ResultTypesMatchSchema = Holds<Same<RescanJobResult, z.infer<typeof rescanResultSchema>>>;

/**
 * A job's view of the call that covered it. Kept small on purpose: with coalescing, a call's lists
 * copied into each of its jobs would grow with the square of the call's size (the full lists are in
 * the stream record).
 */
export function jobResult(call: CallRecord, job: { id: string; assetIds: readonly number[] }): RescanJobResult {
  return {
    ...call,
    assetIds: [...job.assetIds],
    jobIds: [job.id],
    callJobs: call.jobIds.length,
    callAssets: call.assetIds.length,
  };
}

/** Raised for input that breaks the contract: lists every problem, each naming its field. */
export class ValidationError extends ProblemsError {
  override readonly name = 'ValidationError';
  readonly code = 'INVALID_RESCAN';
  constructor(problems: string[]) {
    super(problems, problems.join('; '));
  }
}

const MAX_PROBLEMS = 20;

/** One line per problem, naming the field; a huge bad array is summarised rather than listed whole. */
function formatIssues(error: z.ZodError, allowed: string): string[] {
  const out: string[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      // A hostile key can be huge: quote each one shortened, like values.
      const keys = issue.keys
        .slice(0, MAX_PROBLEMS)
        .map((k) => quoteValue(k))
        .join(', ');
      out.push(`unknown field${issue.keys.length > 1 ? 's' : ''} ${keys} (allowed: ${allowed})`);
    } else if (issue.path.length > 1) {
      out.push(`${formatPath(issue.path)}: ${issue.message}`);
    } else {
      out.push(issue.message);
    }
  }
  const unique = [...new Set(out)];
  if (unique.length <= MAX_PROBLEMS) return unique;
  return [...unique.slice(0, MAX_PROBLEMS), `... and ${unique.length - MAX_PROBLEMS} more problems`];
}

function missingFieldProblems(input: unknown): string[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [];
  const o = input as Record<string, unknown>;
  const out: string[] = [];
  if (!('policyItemId' in o)) out.push('policyItemId is required');
  if (!('assetIds' in o)) out.push('assetIds is required');
  return out;
}

/** Validates a rescan request; throws ValidationError listing every problem. */
export function parseRescanRequest(input: unknown): RescanRequest {
  const r = rescanRequestSchema.safeParse(input);
  if (r.success) return r.data;
  throw new ValidationError(withMissing(input, formatIssues(r.error, 'policyItemId, assetIds, assetType')));
}

/** Validates job data as the worker sees it; throws ValidationError listing every problem. */
export function parseRescanJobData(input: unknown): RescanJobData {
  const r = rescanJobDataSchema.safeParse(input);
  if (r.success) return r.data;
  throw new ValidationError(withMissing(input, formatIssues(r.error, 'policyItemId, assetIds, assetType, batchId')));
}

function withMissing(input: unknown, problems: string[]): string[] {
  const missing = missingFieldProblems(input);
  // zod reports a missing field as "must be ..., got nothing"; say "is required" instead.
  const rest = problems.filter(
    (p) => !missing.some((m) => p.startsWith(m.split(' ')[0]!) && p.includes('got nothing')),
  );
  return [...missing, ...rest];
}

/**
 * Splits a valid request into job payloads: asset ids deduplicated (first occurrence kept), at most
 * `maxAssetsPerCall` per job; a request that needs several jobs gets one batchId shared by all of them.
 */
export function splitRescan(req: RescanRequest, maxAssetsPerCall: number, newBatchId: () => string): RescanJobData[] {
  const unique = [...new Set(req.assetIds)];
  const chunks: number[][] = [];
  for (let i = 0; i < unique.length; i += maxAssetsPerCall) chunks.push(unique.slice(i, i + maxAssetsPerCall));
  const batchId = chunks.length > 1 ? newBatchId() : undefined;
  return chunks.map((assetIds) => ({
    policyItemId: req.policyItemId,
    assetIds,
    ...(req.assetType !== undefined ? { assetType: req.assetType } : {}),
    ...(batchId !== undefined ? { batchId } : {}),
  }));
}
