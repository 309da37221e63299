/** Kafka trigger on product.deleted: the product can no longer be ordered. */
import { kafkaHandler } from '#layers/kafka/consumer';
import { ProductDeletedData } from '#layers/schemas/product-events';
import { retireDeletedProduct } from './stock-service.ts';

export const handler = kafkaHandler(
  { consumer: 'inventory.onProductDeleted', schema: ProductDeletedData },
  (tx, event) => retireDeletedProduct(tx, event.data),
);
