/** onProductCreated (Kafka: product.created): the new product's stock row, with its initial stock. */
import { ProductCreated } from '#layers/events';
import { kafkaHandler } from '#layers/kafka/consumer';
import * as steps from './steps.ts';

export const handler = kafkaHandler(
  { consumer: 'inventory.onProductCreated', events: ProductCreated },
  (tx, event) => steps.onProductCreated(tx, event.data),
);
