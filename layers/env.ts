/**
 * Reads and validates configuration from the environment at cold start. A missing or malformed
 * variable fails fast with a message naming it; there are no placeholder defaults.
 */
import { z } from 'zod';

export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/** Parses `process.env` with `schema`, throwing one readable error that lists every bad variable. */
export function readEnv<S extends z.ZodType>(schema: S, source: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
  throw new ConfigurationError(`Invalid configuration: ${problems.join('; ')}. Set these environment variables (see README, Configuration).`);
}

/** A comma-separated list, e.g. KAFKA_BROKERS=host1:9092,host2:9092. */
export const commaList = z
  .string()
  .transform((value) => value.split(',').map((part) => part.trim()).filter(Boolean))
  .pipe(z.array(z.string()).min(1));

/** Memoises a zero-argument factory: configuration and clients are built once per cold start. */
export function once<T>(factory: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: factory() }).v;
}
