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
