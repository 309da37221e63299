/** processPayment (Kafka: payment.requested): one payment step — a charge or an inquiry — and its consequence. */
import { kafkaHandler } from '#layers/kafka/consumer';
import { PaymentRequestedData } from '#layers/schemas/order-events';
import { runPaymentStep } from './saga-steps.ts';

export const handler = kafkaHandler(
  { consumer: 'order.processPayment', schema: PaymentRequestedData },
  (tx, event) => runPaymentStep(tx, event.data),
);
