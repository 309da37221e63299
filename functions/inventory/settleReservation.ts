/** settleReservation (Kafka: order.completed, order.failed, order.cancelled): commits or releases held stock. */
import { kafkaHandler } from '#layers/kafka/consumer';
import { OrderClosedData } from '#layers/schemas/order-events';
import { settleForOrder } from './reservation-service.ts';

export const handler = kafkaHandler(
  { consumer: 'inventory.settleReservation', schema: OrderClosedData },
  (tx, event) => settleForOrder(tx, event.data.orderId, event.type),
);
