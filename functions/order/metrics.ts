/** Powertools metrics of the order saga: orders by outcome and payment attempts by result. */
import { metrics, MetricUnit } from '#layers/observability';

function count(name: string, dimension: string, value: string): void {
  const single = metrics.singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Count, 1);
}

export const countOrderOutcome = (outcome: 'COMPLETED' | 'REJECTED' | 'FAILED' | 'CANCELLED') =>
  count('OrdersFinished', 'outcome', outcome);
export const countPaymentAttempt = (result: string) => count('PaymentAttempts', 'result', result);
