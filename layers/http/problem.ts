/**
 * RFC 9457 problem+json: the one place errors become HTTP responses. Details are exposed only
 * for client errors (4xx); server errors answer with a generic detail and are logged in full.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { ParseError } from '@aws-lambda-powertools/parser';
import {
  AppError,
  CONNECTION_ERROR_CODES,
  DependencyError,
  ValidationError,
  type FieldError,
} from '../errors.ts';
import { logger } from '../observability.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * The `{path, message}` pairs of a Powertools ParseError, whose cause holds the schema's issues
 * (Standard Schema issues, or a ZodError), prefixed with where they came from (body, query…).
 */
export function fieldErrors(error: ParseError, prefix?: string): FieldError[] {
  const cause = error.cause as StandardIssue[] | { issues?: StandardIssue[] } | undefined;
  const issues = Array.isArray(cause) ? cause : (cause?.issues ?? []);
  return issues.map((issue) => ({
    path:
      [prefix, ...(issue.path ?? []).map((part) => String(typeof part === 'object' ? part.key : part))]
        .filter(Boolean)
        .join('.') || '(root)',
    message: issue.message,
  }));
}

interface StandardIssue {
  message: string;
  path?: readonly (PropertyKey | { key: PropertyKey })[];
}

/**
 * Failures of a dependency that say nothing about the request: the database (or the broker) is
 * unreachable, restarting, out of connections, or the statement lost a lock race or timed out.
 * The transaction did not commit, so the client may retry: 503 with Retry-After, never 500.
 */
const UNAVAILABLE_CODES = new Set([
  // sockets and postgres.js's own connection errors
  ...CONNECTION_ERROR_CODES,
  // PostgreSQL: connection exceptions (08), too many connections / resources (53), shutting down
  // or starting (57P0x), statement timeout or cancel (57014), lock not available (55P03),
  // serialization failure and deadlock (40001, 40P01)
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53000',
  '53100',
  '53200',
  '53300',
  '53400',
  '57P01',
  '57P02',
  '57P03',
  '57014',
  '55P03',
  // The server ended a transaction left idle (layers/db.ts IDLE_IN_TRANSACTION_TIMEOUT_MS).
  '25P03',
  '40001',
  '40P01',
]);

/** Classifies any thrown value as an AppError (unknown errors stay unknown: they are 500s). */
export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof ParseError) {
    return new ValidationError('The request does not match the schema.', {
      errors: fieldErrors(error),
      cause: error,
    });
  }
  const code = (error as { code?: unknown } | null)?.code;
  // Text PostgreSQL cannot store (U+0000 in a string): the statement failed, so nothing was written.
  if (code === '22021' || code === '22P05') {
    return new ValidationError('The request contains a character that cannot be stored (U+0000).', {
      cause: error,
    });
  }
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) {
    return new DependencyError('A backing service is unavailable; retry shortly.', { cause: error });
  }
  return undefined;
}

export function problemResponse(error: unknown, instance?: string): APIGatewayProxyResult {
  const known = toAppError(error);
  const problem: Problem = known
    ? {
        type: known.type,
        title: known.title,
        status: known.status,
        detail: known.message,
        ...(instance ? { instance } : {}),
        ...(known.errors?.length ? { errors: known.errors } : {}),
      }
    : {
        type: 'about:blank',
        title: 'Internal Server Error',
        status: 500,
        detail: 'An unexpected error occurred.',
        ...(instance ? { instance } : {}),
      };

  if (problem.status >= 500) logger.error('request failed', { error: error as Error });
  else logger.info('request refused', { status: problem.status, detail: problem.detail });

  return {
    statusCode: problem.status,
    headers: {
      'content-type': PROBLEM_CONTENT_TYPE,
      ...(problem.status === 503 ? { 'retry-after': '1' } : {}),
    },
    body: JSON.stringify(problem),
  };
}
