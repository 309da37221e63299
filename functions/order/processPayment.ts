/**
 * processPayment (Kafka: payment.requested): one payment step — a charge, an inquiry or a void —
 * called with no transaction open, then its consequence applied in the record's transaction.
 */
import { PaymentRequested } from '#layers/events';
import { kafkaHandler } from '#layers/kafka/consumer';
import * as steps from './steps.ts';

export const handler = kafkaHandler(
  {
    consumer: 'order.processPayment',
    events: PaymentRequested,
    prepare: (event) => steps.callPayment(event.data),
  },
  (tx, event, call) => steps.processPayment(tx, event.data, call),
);
