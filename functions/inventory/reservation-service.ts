/**
 * The inventory side of the order saga: reserve an order's stock (all or nothing, in one
 * transaction) and settle the reservation when the order closes. A closed order is remembered, so
 * a cancel that overtakes the reservation (the events travel on different topics) leaves nothing
 * held: whichever of the two runs second sees the other's effect. Runs inside the Kafka consumer's
 * transaction, which also records the event as processed, so a redelivery changes nothing.
 */
import type { Tx } from '#layers/db';
import { enqueue } from '#layers/outbox';
import { logger } from '#layers/observability';
import { TOPICS } from '#layers/topics';
import type { OrderPlacedData, StockRejectedData, StockReservedData } from '#layers/schemas/order-events';
import {
  hasReservations,
  holdLines,
  isClosed,
  lockOrderReservation,
  lockStock,
  markClosed,
  settleHeld,
} from './reservation-repository.ts';
import { decideReservation, normaliseLines } from './reservations.ts';

export async function reserveForOrder(tx: Tx, order: OrderPlacedData): Promise<void> {
  await lockOrderReservation(tx, order.orderId);
  if (await isClosed(tx, order.orderId)) {
    logger.info('order already closed (cancelled before its reservation); holding nothing');
    return;
  }
  // The same order placed twice (a re-published event under a new id) must not hold stock twice.
  if (await hasReservations(tx, order.orderId)) {
    logger.info('order already has reservations; nothing to do');
    return;
  }
  const lines = normaliseLines(order.items);
  const decision = decideReservation(
    lines,
    await lockStock(
      tx,
      lines.map((line) => line.productId),
    ),
  );
  if (decision.kind === 'reject') {
    logger.info('stock rejected', { reason: decision.reason });
    // Closed for good: a re-published order.placed must not reserve it later, when stock is back.
    await markClosed(tx, order.orderId);
    await enqueue<StockRejectedData>(tx, {
      topic: TOPICS.stockRejected,
      key: order.orderId,
      type: TOPICS.stockRejected,
      correlationId: order.orderId,
      data: { orderId: order.orderId, reason: decision.reason },
    });
    return;
  }
  await holdLines(tx, order.orderId, decision.lines);
  logger.info('stock reserved', { lines: decision.lines.length });
  await enqueue<StockReservedData>(tx, {
    topic: TOPICS.stockReserved,
    key: order.orderId,
    type: TOPICS.stockReserved,
    correlationId: order.orderId,
    data: { orderId: order.orderId, items: decision.lines },
  });
}

/** order.completed commits the held stock; order.failed and order.cancelled release it. */
export async function settleForOrder(tx: Tx, orderId: string, closingEvent: string): Promise<void> {
  const outcome = closingEvent === TOPICS.orderCompleted ? 'COMMITTED' : 'RELEASED';
  await lockOrderReservation(tx, orderId);
  const settled = await settleHeld(tx, orderId, outcome);
  await markClosed(tx, orderId);
  logger.info(settled.length ? `reservation ${outcome.toLowerCase()}` : 'no held reservation to settle', {
    closingEvent,
    lines: settled.length,
  });
}
