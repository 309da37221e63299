/** onStockRejected (Kafka: stock.rejected): the order is REJECTED with the inventory's reason. */
import { kafkaHandler } from '#layers/kafka/consumer';
import { StockRejectedData } from '#layers/schemas/order-events';
import { onStockRejected } from './saga-steps.ts';

export const handler = kafkaHandler(
  { consumer: 'order.onStockRejected', schema: StockRejectedData },
  (tx, event) => onStockRejected(tx, event.data),
);
