/** reserveStock (Kafka: order.placed): holds every item of the order or none. */
import { OrderPlaced } from '#layers/events';
import { kafkaHandler } from '#layers/kafka/consumer';
import * as steps from './steps.ts';

export const handler = kafkaHandler(
  { consumer: 'inventory.reserveStock', events: OrderPlaced },
  (tx, event) => steps.reserveStock(tx, event.data),
);
