/** onStockRejected (Kafka: stock.rejected): the order is REJECTED with the inventory's reason. */
import { StockRejected } from '#layers/events';
import { kafkaHandler } from '#layers/kafka/consumer';
import * as steps from './steps.ts';

export const handler = kafkaHandler(
  { consumer: 'order.onStockRejected', events: StockRejected },
  (tx, event) => steps.onStockRejected(tx, event.data),
);
