/**
 * Powertools logger, metrics and tracer: one instance each per function, configured from the
 * POWERTOOLS_* environment variables serverless.yml sets (service name, log level, namespace).
 *
 * The tracer exists only where tracing is on (AWS stages: POWERTOOLS_TRACE_ENABLED=true). Its
 * X-Ray SDK installs async hooks at import time that cost every promise of every invocation
 * (a third of the CPU of a local order), so it is imported lazily and not at all where it is off.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'shopstream';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'shopstream' });

export const tracingEnabled = process.env.POWERTOOLS_TRACE_ENABLED === 'true';

const tracing = tracingEnabled
  ? await (async () => {
      const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
        import('@aws-lambda-powertools/tracer'),
        import('@aws-lambda-powertools/tracer/middleware'),
      ]);
      const instance = new Tracer({ serviceName });
      return { tracer: instance, middleware: captureLambdaHandler(instance) as MiddlewareObj };
    })()
  : undefined;

/** The X-Ray tracer where tracing is on, else undefined. */
export const tracer: Tracer | undefined = tracing?.tracer;

/** The handler segment of every invocation (Powertools' middy middleware) where tracing is on; none elsewhere. */
export function traceHandler(): MiddlewareObj[] {
  return tracing ? [tracing.middleware] : [];
}

/** Traces an AWS SDK v3 client's calls as subsegments where tracing is on; returns it unchanged elsewhere. */
export function traceClient<T>(client: T): T {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

export { MetricUnit } from '@aws-lambda-powertools/metrics';
