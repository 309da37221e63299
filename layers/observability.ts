/**
 * Powertools logger, metrics and tracer: one instance each per function, configured from the
 * POWERTOOLS_* environment variables serverless.yml sets (service name, log level, namespace).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'shopstream' });
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'shopstream' });
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'shopstream' });

export { MetricUnit } from '@aws-lambda-powertools/metrics';
