/**
 * reserveStock (Kafka: order.placed): holds every item of the order or none, in one statement;
 * a refusal in a transaction that publishes it.
 */
import { OrderPlaced } from '#layers/events';
import { kafkaHandler } from '#layers/kafka/consumer';
import * as steps from './steps.ts';

export const handler = kafkaHandler(
  {
    consumer: 'inventory.reserveStock',
    events: OrderPlaced,
    applyInOneStatement: (claim, event) => steps.reserveStockAlone(claim, event.data),
  },
  (tx, event) => steps.reserveStock(tx, event.data),
);
