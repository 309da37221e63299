/** Kafka trigger on product.created: the new product's stock row, with its initial stock. */
import { kafkaHandler } from '#layers/kafka/consumer';
import { ProductCreatedData } from '#layers/schemas/product-events';
import { stockForNewProduct } from './stock-service.ts';

export const handler = kafkaHandler(
  { consumer: 'inventory.onProductCreated', schema: ProductCreatedData },
  (tx, event) => stockForNewProduct(tx, event.data),
);
