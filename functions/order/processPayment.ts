/**
 * processPayment (Kafka: payment.requested): one payment step — a charge, an inquiry or a void —
 * called with no transaction open, then its consequence applied in the record's transaction.
 */
import { kafkaHandler } from '#layers/kafka/consumer';
import { PaymentRequestedData } from '#layers/schemas/order-events';
import { applyPaymentCall, callPayment } from './saga-steps.ts';

export const handler = kafkaHandler(
  {
    consumer: 'order.processPayment',
    schema: PaymentRequestedData,
    prepare: (event) => callPayment(event.data),
  },
  (tx, event, call) => applyPaymentCall(tx, event.data, call),
);
