/**
 * settleReservation (Kafka: order.completed, order.failed, order.cancelled): commits or releases
 * held stock, in one statement with the record's claim.
 */
import { OrderCancelled, OrderCompleted, OrderFailed } from '#layers/events';
import { kafkaHandler } from '#layers/kafka/consumer';
import * as steps from './steps.ts';

export const handler = kafkaHandler(
  {
    consumer: 'inventory.settleReservation',
    events: [OrderCompleted, OrderFailed, OrderCancelled],
    applyInOneStatement: (claim, event) => steps.settleReservationAlone(claim, event),
  },
  (tx, event) => steps.settleReservation(tx, event),
);
