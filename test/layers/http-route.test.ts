/** Unit tests of the HTTP route wrapper: parsing, validation, admin key and problem+json shapes. */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { ConflictError } from '#layers/errors';
import { defineRoute, httpHandler, MAX_BODY_BYTES, reply } from '#layers/http/route';

const route = defineRoute({
  operationId: 'createThing',
  method: 'post',
  path: '/things/{id}',
  summary: 'test route',
  tags: ['Test'],
  admin: true,
  params: z.object({ id: z.uuid() }),
  body: z.strictObject({ name: z.string().min(1), price: z.number().int().min(0) }),
  response: { status: 201, description: 'created' },
});

const seen: unknown[] = [];
const handler = httpHandler(route, async ({ body, params }) => {
  seen.push(body);
  if (body.name === 'taken') throw new ConflictError('name taken');
  if (body.name === 'boom') throw new Error('secret internal detail');
  if (body.name === 'accepted') return reply(202, { accepted: true }, { location: '/x' });
  return { id: params.id, ...body };
});

const ID = '6f1c1a9e-6a55-4f2b-9d0a-2a4e3f0c9b11';
const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 1000 } as unknown as Context;

function event(
  overrides: Partial<APIGatewayProxyEvent> & { headers?: Record<string, string> } = {},
): APIGatewayProxyEvent {
  return {
    httpMethod: 'POST',
    path: `/things/${ID}`,
    pathParameters: { id: ID },
    queryStringParameters: null,
    headers: { 'Content-Type': 'application/json', 'X-Api-Key': 'k3y' },
    body: JSON.stringify({ name: 'a', price: 1 }),
    isBase64Encoded: false,
    requestContext: { requestId: 'r' },
    ...overrides,
  } as APIGatewayProxyEvent;
}

const call = async (e: APIGatewayProxyEvent) => {
  const result = (await handler(e, context)) as APIGatewayProxyResult;
  return { ...result, json: result.body ? JSON.parse(result.body) : undefined };
};

beforeAll(() => {
  process.env.ADMIN_API_KEY = 'k3y';
});

beforeEach(() => (seen.length = 0));

describe('httpHandler', () => {
  it('answers the route status with the JSON body', async () => {
    const result = await call(event());
    expect(result.statusCode).toBe(201);
    expect(result.headers?.['content-type']).toBe('application/json');
    expect(result.json).toEqual({ id: ID, name: 'a', price: 1 });
  });

  it('lets the handler choose another status and headers', async () => {
    const result = await call(event({ body: JSON.stringify({ name: 'accepted', price: 1 }) }));
    expect(result.statusCode).toBe(202);
    expect(result.headers?.location).toBe('/x');
  });

  it.each([
    ['a missing admin key', { headers: { 'content-type': 'application/json' } }, 401],
    ['a wrong admin key', { headers: { 'content-type': 'application/json', 'x-api-key': 'nope' } }, 403],
    ['a non-JSON content type', { headers: { 'content-type': 'text/plain', 'x-api-key': 'k3y' } }, 415],
    ['malformed JSON', { body: '{"name":' }, 400],
    ['an empty body', { body: '' }, 400],
    ['a wrong field type', { body: JSON.stringify({ name: 'a', price: '1' }) }, 400],
    ['an unknown field', { body: JSON.stringify({ name: 'a', price: 1, admin: true }) }, 400],
    ['an invalid path id', { pathParameters: { id: 'not-a-uuid' } }, 400],
    [
      'a body over the size limit',
      { body: JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES), price: 1 }) },
      413,
    ],
    ['a JSON scalar serverless-offline passes already parsed', { body: false }, 400],
  ])('refuses %s with a problem and never calls the handler', async (_label, overrides, status) => {
    const result = await call(event(overrides as never));
    expect(result.statusCode).toBe(status);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    expect(result.json).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
    expect(seen).toEqual([]);
  });

  it('names the failing fields', async () => {
    const result = await call(event({ body: JSON.stringify({ name: '', price: -1 }) }));
    expect(result.json.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      'body.name',
      'body.price',
    ]);
  });

  it('maps domain errors to their status', async () => {
    const result = await call(event({ body: JSON.stringify({ name: 'taken', price: 1 }) }));
    expect(result.statusCode).toBe(409);
    expect(result.json.detail).toBe('name taken');
  });

  it('hides the detail of unexpected errors', async () => {
    const result = await call(event({ body: JSON.stringify({ name: 'boom', price: 1 }) }));
    expect(result.statusCode).toBe(500);
    expect(result.body).not.toContain('secret internal detail');
  });
});

describe('a dependency that is down or out of connections', () => {
  const failing = (code: string) =>
    httpHandler(route, async () => {
      throw Object.assign(new Error(`simulated ${code}`), { code });
    });

  it.each([
    ['53300', 'too many clients already'],
    ['57P01', 'terminating connection due to administrator command'],
    ['ECONNREFUSED', 'connection refused'],
    ['CONNECTION_CLOSED', 'connection closed mid-query (postgres.js)'],
    ['40P01', 'deadlock detected'],
  ])('%s (%s) is a 503 problem with Retry-After, never a 500', async (code) => {
    const response = (await failing(code)(event(), context)) as APIGatewayProxyResult;
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({
      'content-type': 'application/problem+json',
      'retry-after': expect.stringMatching(/^\d+$/),
    });
    expect(JSON.parse(response.body)).toMatchObject({ status: 503, title: 'Service unavailable' });
  });
});
