/**
 * Builds the OpenAPI 3.1 document from the route declarations (see route.ts): the same zod
 * schemas the handlers validate with, plus the problem+json error responses.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31, extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import type { RouteSpec } from './route.ts';

extendZodWithOpenApi(z);

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({
    id: 'Problem',
    description: 'RFC 9457 problem details',
    example: { type: 'https://shopstream.dev/problems/invalid-request', title: 'Invalid request', status: 400, detail: 'Invalid body: body.price Too small: expected number to be >=0', errors: [{ path: 'body.price', message: 'Too small: expected number to be >=0' }] },
  });

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is malformed or fails validation',
  401: 'The admin key is missing',
  403: 'The admin key is wrong',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'The body is too large',
  415: 'The body is not JSON',
  500: 'Unexpected error',
  503: 'A backing service is unavailable; retry',
};

export interface OpenApiInfo {
  title: string;
  version: string;
  description: string;
}

export function buildOpenApiDocument(routes: readonly RouteSpec[], info: OpenApiInfo, serverUrl = '/') {
  const registry = new OpenAPIRegistry();
  registry.register('Problem', ProblemSchema);
  const adminKey = registry.registerComponent('securitySchemes', 'AdminApiKey', { type: 'apiKey', in: 'header', name: 'x-api-key' });

  for (const route of routes) {
    const problemStatuses = new Set([400, ...(route.admin ? [401, 403] : []), ...(route.problems ?? []), 500]);
    const responses: Record<string, { description: string; content?: Record<string, { schema: z.ZodType }> }> = {
      [route.response.status]: {
        description: route.response.description,
        ...(route.response.schema ? { content: { 'application/json': { schema: route.response.schema } } } : {}),
      },
    };
    for (const status of problemStatuses) {
      responses[status] = { description: PROBLEM_DESCRIPTIONS[status] ?? 'Error', content: { 'application/problem+json': { schema: ProblemSchema } } };
    }
    registry.registerPath({
      operationId: route.operationId,
      method: route.method,
      path: route.path,
      summary: route.summary,
      tags: route.tags,
      ...(route.admin ? { security: [{ [adminKey.name]: [] }] } : {}),
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(route.headers ? { headers: route.headers } : {}),
        ...(route.body ? { body: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
      },
      responses,
    });
  }

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { ...info },
    servers: [{ url: serverUrl }],
  });
}
