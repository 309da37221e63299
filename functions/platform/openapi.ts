/** GET /openapi.json: the OpenAPI document, generated from every route's schemas. */
import { httpHandler } from '#layers/http/route';
import { buildOpenApiDocument } from '#layers/http/openapi';
import { allRoutes, API_INFO } from '../routes.ts';
import { openApiDocument } from './routes.ts';

const document = buildOpenApiDocument(allRoutes, API_INFO);

export const handler = httpHandler(openApiDocument, async () => document);
