/** onStockReserved (Kafka: stock.reserved): the order is RESERVED and its first payment attempt requested. */
import { StockReserved } from '#layers/events';
import { kafkaHandler } from '#layers/kafka/consumer';
import * as steps from './steps.ts';

export const handler = kafkaHandler(
  { consumer: 'order.onStockReserved', events: StockReserved },
  (tx, event) => steps.onStockReserved(tx, event.data),
);
