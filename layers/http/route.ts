/**
 * HTTP routes: one declaration per operation (method, path, zod schemas, responses) that both the
 * Lambda handler and the OpenAPI document are built from, so the document cannot drift from what
 * the handlers accept.
 */
import { timingSafeEqual } from 'node:crypto';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import { parse } from '@aws-lambda-powertools/parser';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { ForbiddenError, PayloadTooLargeError, UnauthorizedError, UnsupportedMediaTypeError, ValidationError } from '../errors.ts';
import { logger, traceHandler } from '../observability.ts';
import { fieldErrors, problemResponse } from './problem.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface RouteSpec<
  P extends AnyObject | undefined = AnyObject | undefined,
  Q extends AnyObject | undefined = AnyObject | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  H extends AnyObject | undefined = AnyObject | undefined,
> {
  operationId: string;
  method: HttpMethod;
  /** OpenAPI-style path, `/products/{id}`; serverless.yml uses the same. */
  path: string;
  summary: string;
  tags: string[];
  /** Admin writes need the `x-api-key` header. */
  admin?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  headers?: H;
  response: { status: number; description: string; schema?: z.ZodType };
  /** Problem statuses this operation can answer, documented in OpenAPI (400 and 500 are implied). */
  problems?: number[];
}

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

export interface RouteInput<R extends RouteSpec> {
  params: Out<R['params']>;
  query: Out<R['query']>;
  body: Out<R['body']>;
  headers: Out<R['headers']>;
  requestId: string;
}

/** A handler may return the body (sent with the route's status) or a full reply. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
export const reply = (status: number, body?: unknown, headers?: Record<string, string>): Reply => ({ status, body, headers });
const isReply = (value: unknown): value is Reply => value instanceof Object && 'status' in value && Object.getPrototypeOf(value) === Object.prototype && Object.keys(value).every((k) => ['status', 'body', 'headers'].includes(k));

export function defineRoute<const R extends RouteSpec>(route: R): R {
  return route;
}

/** Largest request body accepted, in bytes (API Gateway's own limit is 10 MB). */
export const MAX_BODY_BYTES = 64 * 1024;

export function httpHandler<R extends RouteSpec>(route: R, handle: (input: RouteInput<R>, context: Context) => Promise<unknown>) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(traceHandler())
    .use(httpHeaderNormalizer())
    .handler(async (event, context) => {
      const requestId = event.requestContext?.requestId ?? context.awsRequestId;
      logger.appendKeys({ correlationId: event.headers?.['x-correlation-id'] ?? requestId, operation: route.operationId });
      try {
        if (route.admin) requireAdminKey(event.headers?.['x-api-key']);
        const input = parseRequest(route, event, requestId);
        const result = await handle(input, context);
        const { status, body, headers } = isReply(result) ? result : { status: route.response.status, body: result, headers: undefined };
        return {
          statusCode: status,
          headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
          body: body === undefined ? '' : JSON.stringify(body),
        };
      } catch (error) {
        return problemResponse(error, event.path);
      } finally {
        logger.resetKeys();
      }
    });
}

function parseRequest<R extends RouteSpec>(route: R, event: APIGatewayProxyEvent, requestId: string): RouteInput<R> {
  return {
    params: validate(route.params, event.pathParameters ?? {}, 'path'),
    query: validate(route.query, event.queryStringParameters ?? {}, 'query'),
    headers: validate(route.headers, event.headers ?? {}, 'header'),
    body: route.body ? validate(route.body, readJsonBody(event), 'body') : undefined,
    requestId,
  } as RouteInput<R>;
}

function validate(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  if (!schema) return undefined;
  const result = parse(value, undefined, schema, true);
  if (result.success) return result.data;
  const errors = fieldErrors(result.error, where);
  throw new ValidationError(`Invalid ${where}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors });
}

function readJsonBody(event: APIGatewayProxyEvent): unknown {
  const contentType = event.headers?.['content-type'] ?? '';
  if (!/^application\/(?:[a-z.+-]+\+)?json\s*(?:;|$)/i.test(contentType)) {
    throw new UnsupportedMediaTypeError(`Send the body as JSON with "content-type: application/json" (got "${contentType || 'none'}").`);
  }
  // API Gateway always passes a string (or null); serverless-offline passes some JSON scalars
  // (a body of `false`) already parsed.
  const body: unknown = event.body;
  const raw =
    typeof body === 'string' ? (event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body) : body == null ? '' : JSON.stringify(body);
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`The body is larger than ${MAX_BODY_BYTES} bytes.`);
  }
  if (!raw.trim()) throw new ValidationError('The request body is empty; send a JSON object.');
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new ValidationError(`The body is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

function requireAdminKey(given: string | undefined): void {
  const expected = process.env.ADMIN_API_KEY;
  if (!expected) throw new Error('ADMIN_API_KEY is not configured for this function');
  if (!given) throw new UnauthorizedError('This operation needs the admin key in the "x-api-key" header.');
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new ForbiddenError('The "x-api-key" header does not hold a valid admin key.');
}
