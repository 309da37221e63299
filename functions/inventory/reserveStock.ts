/** reserveStock (Kafka: order.placed): holds every item of the order or none. */
import { kafkaHandler } from '#layers/kafka/consumer';
import { OrderPlacedData } from '#layers/schemas/order-events';
import { reserveForOrder } from './reservation-service.ts';

export const handler = kafkaHandler(
  { consumer: 'inventory.reserveStock', schema: OrderPlacedData },
  (tx, event) => reserveForOrder(tx, event.data),
);
