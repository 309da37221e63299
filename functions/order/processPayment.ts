/**
 * processPayment (Kafka: stock.reserved, payment.requested): one payment step — the first charge
 * of a reserved order, a retry, an inquiry or a void — called with no transaction open; an answer
 * that ends the order then applied in one statement, any other consequence in the record's
 * transaction.
 */
import { PaymentRequested, StockReserved } from '#layers/events';
import { kafkaHandler } from '#layers/kafka/consumer';
import * as steps from './steps.ts';

export const handler = kafkaHandler(
  {
    consumer: 'order.processPayment',
    events: [StockReserved, PaymentRequested],
    prepare: (event) => steps.callPayment(steps.paymentStepOf(event)),
    applyInOneStatement: (claim, event, call) =>
      steps.processPaymentAlone(claim, steps.paymentStepOf(event), call),
  },
  (tx, event, call) => steps.processPayment(tx, steps.paymentStepOf(event), call),
);
