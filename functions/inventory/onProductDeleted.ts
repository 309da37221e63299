/** onProductDeleted (Kafka: product.deleted): the product can no longer be ordered. */
import { ProductDeleted } from '#layers/events';
import { kafkaHandler } from '#layers/kafka/consumer';
import * as steps from './steps.ts';

export const handler = kafkaHandler(
  { consumer: 'inventory.onProductDeleted', events: ProductDeleted },
  (tx, event) => steps.onProductDeleted(tx, event.data),
);
