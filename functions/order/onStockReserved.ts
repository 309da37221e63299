/** onStockReserved (Kafka: stock.reserved): the order is RESERVED and its first payment attempt requested. */
import { kafkaHandler } from '#layers/kafka/consumer';
import { StockReservedData } from '#layers/schemas/order-events';
import { onStockReserved } from './saga-steps.ts';

export const handler = kafkaHandler(
  { consumer: 'order.onStockReserved', schema: StockReservedData },
  (tx, event) => onStockReserved(tx, event.data),
);
