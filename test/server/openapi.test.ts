/**
 * The OpenAPI 3.1 description: served at /v1/openapi.json and /docs behind the API's credentials,
 * covering every /v1 route, and true of the real answers: each answer of a real server (with a real
 * worker behind it, calling the simulator) is validated against the document's response schema with
 * ajv's draft 2020-12 validator (OpenAPI 3.1's schema dialect).
 */
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { RescanProducer } from '../../src/producer';
import type { RunningServer } from '../../src/server/run';
import { basicAuth } from '../support/http';
import { waitFor } from '../support/redis';
import { startServerStack, type ServerStack } from '../support/serverStack';

const PASSWORD = 'openapi-password-0123';
const TOKEN = 'openapi-token-0123456789-abcdef';
const AUTH = { authorization: basicAuth('admin', PASSWORD) };
const FAILING_ITEM = 667;

let stack: ServerStack;
let server: RunningServer;
let producer: RescanProducer;
let doc: any;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH) {
  const res = await fetch(server.url + path, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    text,
    body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
  };
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

/** Validates a real answer against the document's schema for (path template, method, status). */
function expectDocumented(template: string, method: string, answer: { status: number; type: string; body: unknown }) {
  const op = doc.paths[template]?.[method.toLowerCase()];
  expect({ template, method, documented: !!op }).toEqual({ template, method, documented: true });
  const response = op.responses[String(answer.status)];
  expect({ template, status: answer.status, documented: !!response }).toEqual({
    template,
    status: answer.status,
    documented: true,
  });
  const mediaType = Object.keys(response.content)[0]!;
  expect(answer.type).toContain(mediaType);
  const validate = ajv.compile(response.content[mediaType].schema);
  const ok = validate(answer.body);
  expect({ template, status: answer.status, errors: validate.errors ?? null, body: answer.body }).toEqual({
    template,
    status: answer.status,
    errors: null,
    body: answer.body,
  });
  expect(ok).toBe(true);
}

beforeAll(async () => {
  stack = await startServerStack({
    queuePrefix: 'oapi',
    password: PASSWORD,
    failingItem: FAILING_ITEM,
    env: { SERVER_API_TOKEN: TOKEN },
    worker: true,
  });
  ({ producer } = stack);
  server = stack.servers[0]!;
  doc = (await call('GET', '/v1/openapi.json')).body;
});

afterAll(() => stack?.close());

test('the document and the page need the same credentials as the API', async () => {
  expect((await call('GET', '/v1/openapi.json', undefined, {})).status).toBe(401);
  expect((await call('GET', '/docs', undefined, {})).status).toBe(401);
  expect((await call('GET', '/v1/openapi.json', undefined, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  const page = await fetch(`${server.url}/docs/`, { headers: AUTH, redirect: 'follow' });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('swagger-ui');
});

test('OpenAPI 3.1, every /v1 route and the probes documented, the dashboard and the docs routes hidden', () => {
  expect(doc.openapi).toBe('3.1.0');
  expect(doc.components.securitySchemes).toEqual(
    expect.objectContaining({ basicAuth: expect.anything(), bearerAuth: expect.anything() }),
  );
  expect(Object.keys(doc.paths).sort()).toEqual([
    '/healthz',
    '/metrics',
    '/readyz',
    '/v1/rescans',
    '/v1/rescans/{jobId}',
    '/v1/tasks',
  ]);
  expect(doc.paths['/healthz'].get.security).toEqual([]);
  expect(doc.paths['/v1/rescans'].post.security).toEqual([{ basicAuth: [] }, { bearerAuth: [] }]);
  // Answers are JSON.stringify as before: the document does not make Fastify drop fields.
  expect(doc.paths['/v1/rescans'].post.requestBody.content['application/json'].schema.oneOf).toHaveLength(2);
});

test('the document compiles under ajv 2020 and the request body schema is the contract', () => {
  const body = ajv.compile(doc.paths['/v1/rescans'].post.requestBody.content['application/json'].schema);
  expect(body({ policyItemId: 1, assetIds: [1] })).toBe(true);
  expect(body([{ policyItemId: 1, assetIds: [1, 1], assetType: 'ASSET_HOST' }])).toBe(true);
  expect(body({ policyItemId: 0, assetIds: [1] })).toBe(false);
  expect(body({ policyItemId: 1, assetIds: [1], extra: true })).toBe(false);
  expect(body([])).toBe(false);
});

test('real answers match the document: enqueue, job (completed and failed), tasks, errors, probes', async () => {
  const accepted = await call('POST', '/v1/rescans', [
    { policyItemId: 2798, assetIds: [1, 2] },
    { policyItemId: FAILING_ITEM, assetIds: [3] },
  ]);
  expect(accepted.status).toBe(202);
  expectDocumented('/v1/rescans', 'POST', accepted);
  expectDocumented('/v1/rescans', 'POST', await call('POST', '/v1/rescans', { policyItemId: 'x', assetIds: [] }));
  expectDocumented('/v1/rescans', 'POST', await call('POST', '/v1/rescans', { policyItemId: 1, assetIds: [1] }, {}));

  const [okId, failId] = accepted.body.jobIds as string[];
  await waitFor(
    async () => (await producer.queue.getJob(okId!))?.finishedOn && (await producer.queue.getJob(failId!))?.finishedOn,
    30_000,
    100,
    'both jobs finished',
  );
  const done = await call('GET', `/v1/rescans/${okId}`);
  expect(done.body.state).toBe('completed');
  expectDocumented('/v1/rescans/{jobId}', 'GET', done);
  const failed = await call('GET', `/v1/rescans/${failId}`);
  expect(failed.body.state).toBe('failed');
  expectDocumented('/v1/rescans/{jobId}', 'GET', failed);
  expectDocumented('/v1/rescans/{jobId}', 'GET', await call('GET', '/v1/rescans/999999999'));

  const tasks = await call('GET', '/v1/tasks?limit=5');
  expect(tasks.body.tasks.length).toBeGreaterThan(0);
  expectDocumented('/v1/tasks', 'GET', tasks);
  expectDocumented('/v1/tasks', 'GET', await call('GET', '/v1/tasks?limit=0'));
  expectDocumented('/healthz', 'GET', await call('GET', '/healthz', undefined, {}));
  expectDocumented('/readyz', 'GET', await call('GET', '/readyz', undefined, {}));
  expectDocumented('/metrics', 'GET', await call('GET', '/metrics'));
});
