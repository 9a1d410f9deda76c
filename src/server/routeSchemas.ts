/**
 * The HTTP API's route schemas, for its OpenAPI description (openapi.ts). Kept apart from the routes
 * (routes/) so that the routes stay as they are: attached by an onRoute hook, by method and URL.
 *
 * They DOCUMENT; they do not validate or serialise. Request bodies are validated by the job contract's
 * zod schemas (job.ts, with its exact messages) and answers are plain JSON.stringify, as before. The
 * body and result schemas are generated from those zod schemas (contractSchemas.ts), so the document
 * cannot drift from the contract; test/server/openapi.test.ts validates real answers against it with ajv.
 */
import { DEFAULT_RECORD_LIST_LIMIT } from '../records';
import { jobJsonSchema, requestJsonSchema, resultJsonSchema, type JsonSchema } from '../contractSchemas';

const problems = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'string', description: 'What was wrong, in one line' },
    problems: { type: 'array', items: { type: 'string' }, description: 'Every problem found, each naming its field' },
    code: { type: 'string' },
  },
} as const;

const error = (description: string) => ({ description, content: { 'application/json': { schema: problems } } });
const unauthorized = error('No or wrong credentials (basic auth or bearer token)');

/** The result schema without its document-level keywords, for embedding. */
function embedded(schema: JsonSchema): JsonSchema {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

const taskRecord = {
  ...embedded(resultJsonSchema()),
  required: [...((resultJsonSchema().required as string[]) ?? []), 'id'],
  properties: {
    ...(resultJsonSchema().properties as object),
    id: { type: 'string', pattern: '^\\d+-\\d+$', description: 'The stream entry id; also a cursor' },
  },
};

export interface RouteDoc {
  summary: string;
  description?: string;
  tags: string[];
  /** false: open (probes). */
  auth: boolean;
  body?: unknown;
  params?: unknown;
  querystring?: unknown;
  response: Record<string, unknown>;
}

/** Documented routes by `METHOD url` (Fastify's URL syntax). Any other route is hidden from the document. */
export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'POST /v1/rescans': {
    summary: 'Enqueue rescans',
    description:
      'One rescan or an array of up to 10,000. All or nothing: one invalid rescan refuses the whole request, every problem listed. Asset ids are deduplicated and split into jobs of at most TCSS_MAX_ASSETS_PER_CALL; the jobs of one split rescan share a batchId.',
    tags: ['rescans'],
    auth: true,
    body: {
      oneOf: [requestJsonSchema(), { type: 'array', minItems: 1, maxItems: 10_000, items: requestJsonSchema() }],
    },
    response: {
      202: {
        description: 'Enqueued',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['jobIds', 'batchIds'],
              properties: {
                jobIds: { type: 'array', items: { type: 'string' } },
                batchIds: {
                  type: 'array',
                  items: { type: ['string', 'null'] },
                  description:
                    'One entry per rescan, in order: the batchId its jobs share when it was split into several jobs, else null',
                },
              },
            },
          },
        },
      },
      400: error('Invalid: nothing was enqueued'),
      401: unauthorized,
      413: error('Body larger than SERVER_BODY_LIMIT_BYTES'),
    },
  },
  'GET /v1/rescans/:jobId': {
    summary: "A job's state and, once done, its TaskId",
    tags: ['rescans'],
    auth: true,
    params: { type: 'object', required: ['jobId'], properties: { jobId: { type: 'string' } } },
    response: {
      200: {
        description: 'The job',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: [
                'jobId',
                'state',
                'attempts',
                'data',
                'taskId',
                'requestId',
                'result',
                'lastError',
                'createdAt',
                'finishedAt',
              ],
              properties: {
                jobId: { type: 'string' },
                state: {
                  type: 'string',
                  enum: [
                    'waiting',
                    'active',
                    'delayed',
                    'prioritized',
                    'completed',
                    'failed',
                    'waiting-children',
                    'unknown',
                  ],
                },
                attempts: { type: 'integer', minimum: 0 },
                data: embedded(jobJsonSchema()),
                taskId: { type: ['integer', 'null'] },
                requestId: { type: ['string', 'null'] },
                result: { oneOf: [embedded(resultJsonSchema()), { type: 'null' }] },
                lastError: {
                  type: ['string', 'null'],
                  description: 'For a failed job: the code, message and RequestId',
                },
                createdAt: { type: 'string', format: 'date-time' },
                finishedAt: { type: ['string', 'null'], format: 'date-time' },
              },
            },
          },
        },
      },
      401: unauthorized,
      404: error('No such job on this queue'),
    },
  },
  'GET /v1/tasks': {
    summary: 'Recorded TaskIds, newest first',
    tags: ['tasks'],
    auth: true,
    querystring: {
      type: 'object',
      properties: {
        policyItemId: { type: 'string', pattern: '^[1-9]\\d*$', description: 'Only this check item' },
        limit: { type: 'string', pattern: '^\\d+$', description: `1 to 1000, default ${DEFAULT_RECORD_LIST_LIMIT}` },
        cursor: { type: 'string', pattern: '^\\d+-\\d+$', description: '`next` of the previous page' },
      },
    },
    response: {
      200: {
        description: 'A page of records',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['tasks', 'next'],
              properties: {
                tasks: { type: 'array', items: taskRecord },
                next: { type: ['string', 'null'], description: 'Cursor of the next page; null at the end' },
              },
            },
          },
        },
      },
      400: error('Invalid query'),
      401: unauthorized,
    },
  },
  'GET /metrics': {
    summary: 'Prometheus metrics',
    description:
      'Text exposition format. The tcss_rescan_* series are cluster-wide: aggregate replicas with max, not sum (docs/prometheus.md).',
    tags: ['operations'],
    auth: true,
    response: {
      200: { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
      401: unauthorized,
    },
  },
  'GET /healthz': {
    summary: 'Liveness: the process answers',
    tags: ['operations'],
    auth: false,
    response: {
      200: {
        description: 'Alive',
        content: {
          'application/json': {
            schema: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } },
          },
        },
      },
    },
  },
  'GET /readyz': {
    summary: 'Readiness: Redis answers and no worker is paused for refused credentials',
    tags: ['operations'],
    auth: false,
    response: {
      200: {
        description: 'Ready',
        content: {
          'application/json': {
            schema: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } },
          },
        },
      },
      503: {
        description: 'Not ready',
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['status'],
              properties: { status: { type: 'string' }, reason: { type: 'string' } },
            },
          },
        },
      },
    },
  },
};

/** The Fastify route schema (for @fastify/swagger) of a documented route. */
export function routeSchema(doc: RouteDoc): Record<string, unknown> {
  return {
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: doc.tags,
    security: doc.auth ? [{ basicAuth: [] }, { bearerAuth: [] }] : [],
    ...(doc.body ? { body: { content: { 'application/json': { schema: doc.body } } } } : {}),
    ...(doc.params ? { params: doc.params } : {}),
    ...(doc.querystring ? { querystring: doc.querystring } : {}),
    response: doc.response,
  };
}
