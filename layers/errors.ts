/**
 * Named application errors. Each carries the HTTP status it maps to (for HTTP handlers) and
 * whether retrying can help (for Kafka consumers and the payment saga). The one place that turns
 * them into HTTP responses is http/problem.ts.
 */
export interface FieldError {
  path: string;
  message: string;
}

export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly title: string;
  /** True when the same operation may succeed later (a timeout, a lock, a dependency down). */
  readonly retryable: boolean = false;
  readonly errors?: FieldError[];

  constructor(message: string, options?: ErrorOptions & { errors?: FieldError[] }) {
    super(message, options);
    this.name = new.target.name;
    if (options?.errors) this.errors = options.errors;
  }

  /** RFC 9457 `type`: a stable URI naming the problem. */
  get type(): string {
    return `https://shopstream.dev/problems/${this.title.toLowerCase().replaceAll(/[^a-z0-9]+/g, '-')}`;
  }
}

export class ValidationError extends AppError {
  readonly status = 400;
  readonly title = 'Invalid request';
}

export class UnauthorizedError extends AppError {
  readonly status = 401;
  readonly title = 'Unauthorized';
}

export class ForbiddenError extends AppError {
  readonly status = 403;
  readonly title = 'Forbidden';
}

export class NotFoundError extends AppError {
  readonly status = 404;
  readonly title = 'Not found';
}

export class ConflictError extends AppError {
  readonly status = 409;
  readonly title = 'Conflict';
}

export class PayloadTooLargeError extends AppError {
  readonly status = 413;
  readonly title = 'Payload too large';
}

export class UnsupportedMediaTypeError extends AppError {
  readonly status = 415;
  readonly title = 'Unsupported media type';
}

/** A dependency (database, broker, another function) failed in a way that may pass. */
export class DependencyError extends AppError {
  readonly status = 503;
  readonly title = 'Service unavailable';
  override readonly retryable = true;
}

/** Network and client-side connection errors: the other side may answer next time. */
export const CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // postgres.js's own codes for a connection that closed, ended, or could not be opened in time.
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/**
 * SQLSTATEs that may pass: connection exceptions (08), serialization failure and deadlock (40),
 * insufficient resources such as too many clients 53300 (53), lock not available 55P03, a
 * transaction the server ended for sitting idle 25P03 (its work rolled back), operator
 * intervention such as statement timeout 57014 and a server shutting down or starting 57P01–03 (57),
 * system and internal errors (58, XX). Data exceptions (22), constraint violations (23), undefined
 * objects and syntax (42) and raised exceptions (P0) will fail the same way again.
 */
function transientSqlState(code: string): boolean {
  return /^(08|40|53|57|58|XX)/.test(code) || code === '55P03' || code === '55006' || code === '25P03';
}

const NAMED_PERMANENT = new Set(['ZodError', 'SyntaxError']);

/**
 * Whether an error may pass if the same operation is tried again later. Declared first (an
 * `AppError`'s `retryable`, kafkajs's `retriable`), then recognised by code (network, postgres.js,
 * SQLSTATE) or kind (a schema or JSON error is permanent), looking through `cause`. An error it
 * cannot place counts as retryable: retried until the record is too old, it costs time, while a
 * dead-lettered record needs an operator.
 */
export function isRetryable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const { retryable, retriable, code } = current as {
      retryable?: unknown;
      retriable?: unknown;
      code?: unknown;
    };
    if (typeof retryable === 'boolean') return retryable;
    if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
    if (current.name === 'PostgresError' && typeof code === 'string') return transientSqlState(code);
    if (current.name.startsWith('KafkaJS') && typeof retriable === 'boolean' && retriable) return true;
    if (NAMED_PERMANENT.has(current.name)) return false;
    current = current.cause;
  }
  return true;
}
