/** Routes of the platform functions: health, the OpenAPI document and Swagger UI. */
import { z } from 'zod';
import { defineRoute } from '#layers/http/route';

const Dependency = z.object({ ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() });
export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    postgres: Dependency,
    kafka: Dependency,
    runtime: z.string().meta({ description: 'Lambda runtime of the Node.js major the function runs on' }),
  })
  .meta({
    id: 'Health',
    example: {
      status: 'ok',
      postgres: { ok: true, latencyMs: 2 },
      kafka: { ok: true, latencyMs: 5 },
      runtime: 'nodejs22.x',
    },
  });

export const health = defineRoute({
  operationId: 'getHealth',
  method: 'get',
  path: '/health',
  summary: 'Reachability of Postgres and Kafka (503 when either is down)',
  tags: ['Platform'],
  response: { status: 200, description: 'Both dependencies answer', schema: HealthSchema },
  problems: [503],
});

export const openApiDocument = defineRoute({
  operationId: 'getOpenApiDocument',
  method: 'get',
  path: '/openapi.json',
  summary: 'This OpenAPI document',
  tags: ['Platform'],
  response: { status: 200, description: 'OpenAPI 3.1 document', schema: z.record(z.string(), z.unknown()) },
});

export const platformRoutes = [health, openApiDocument];
