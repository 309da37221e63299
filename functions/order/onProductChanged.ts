/** onProductChanged (Kafka: product.created, product.updated, product.deleted): the order service's price list. */
import { ProductCreated, ProductDeleted, ProductUpdated } from '#layers/events';
import { kafkaHandler } from '#layers/kafka/consumer';
import * as steps from './steps.ts';

export const handler = kafkaHandler(
  { consumer: 'order.onProductChanged', events: [ProductCreated, ProductUpdated, ProductDeleted] },
  (tx, event) => steps.onProductChanged(tx, event),
);
