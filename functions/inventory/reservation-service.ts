/**
 * The inventory side of the order saga: reserve an order's stock (all or nothing, in one
 * transaction) and settle the reservation when the order closes. A closed order is remembered, so
 * a cancel that overtakes the reservation (the events travel on different topics) leaves nothing
 * held: whichever of the two runs second sees the other's effect. Runs inside the Kafka consumer's
 * transaction, which also records the event as processed, so a redelivery changes nothing.
 *
 * Round trips inside that transaction: reserving is one (advisory lock and reservation statement,
 * pipelined) plus the outbox insert; settling is one.
 */
import type { Tx } from '#layers/db';
import { enqueue } from '#layers/outbox';
import { logger } from '#layers/observability';
import { TOPICS } from '#layers/topics';
import type { OrderPlacedData, StockRejectedData, StockReservedData } from '#layers/schemas/order-events';
import { reserveLines, settleHeld } from './reservation-repository.ts';
import { normaliseLines, rejectionReason } from './reservations.ts';

export async function reserveForOrder(tx: Tx, order: OrderPlacedData): Promise<void> {
  const lines = normaliseLines(order.items);
  const outcome = await reserveLines(tx, order.orderId, lines);
  if (outcome.kind === 'skipped') {
    logger.info(
      outcome.closed
        ? 'order already closed (cancelled before its reservation); holding nothing'
        : 'order already has reservations; nothing to do',
    );
    return;
  }
  if (outcome.kind === 'refused') {
    const reason = rejectionReason(outcome.refusal);
    logger.info('stock rejected', { reason });
    await enqueue<StockRejectedData>(tx, {
      topic: TOPICS.stockRejected,
      key: order.orderId,
      type: TOPICS.stockRejected,
      correlationId: order.orderId,
      data: { orderId: order.orderId, reason },
    });
    return;
  }
  logger.info('stock reserved', { lines: lines.length });
  await enqueue<StockReservedData>(tx, {
    topic: TOPICS.stockReserved,
    key: order.orderId,
    type: TOPICS.stockReserved,
    correlationId: order.orderId,
    data: { orderId: order.orderId, items: lines },
  });
}

/** order.completed commits the held stock; order.failed and order.cancelled release it. */
export async function settleForOrder(tx: Tx, orderId: string, closingEvent: string): Promise<void> {
  const outcome = closingEvent === TOPICS.orderCompleted ? 'COMMITTED' : 'RELEASED';
  const settled = await settleHeld(tx, orderId, outcome);
  logger.info(settled.length ? `reservation ${outcome.toLowerCase()}` : 'no held reservation to settle', {
    closingEvent,
    lines: settled.length,
  });
}
