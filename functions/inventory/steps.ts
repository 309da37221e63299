/**
 * The inventory service's operations, one per function. Stock levels: reading and setting a
 * product's units on hand, and following the catalog's product.created / product.deleted events
 * (inventory learns of products only through them). The inventory side of the order saga: reserve
 * an order's stock (all or nothing, in one transaction) and settle the reservation when the order
 * closes. A closed order is remembered, so a cancel that overtakes the reservation (the events
 * travel on different topics) leaves nothing held: whichever of the two runs second sees the
 * other's effect. The saga steps run inside the Kafka consumer's transaction, which also records
 * the event as processed, so a redelivery changes nothing.
 */
import { db, type Tx } from '#layers/db';
import { NotFoundError } from '#layers/errors';
import {
  StockRejected,
  StockReserved,
  type EventData,
  type EventOf,
  type OrderCancelled,
  type OrderCompleted,
  type OrderFailed,
  type OrderPlaced,
  type ProductCreated,
  type ProductDeleted,
} from '#layers/events';
import type { Claim } from '#layers/kafka/consumer';
import { draft, publish, type OutboxRow } from '#layers/outbox';
import { logger } from '#layers/observability';
import type { Stock } from './contract.ts';
import { assertCanSetOnHand, normaliseLines, rejectionReason, toStockView, type Line } from './decisions.ts';
import * as store from './store.ts';

const noStock = (productId: string) =>
  new NotFoundError(
    `No stock for product ${productId}: the product does not exist, or inventory has not yet learned of it.`,
  );

export async function getStock(productId: string): Promise<Stock> {
  const row = await store.selectStock(db(), productId);
  if (!row) throw noStock(productId);
  return toStockView(row);
}

export async function setStock(productId: string, onHand: number): Promise<Stock> {
  return db().begin(async (tx) => {
    const row = await store.lockStockRow(tx, productId);
    if (!row) throw noStock(productId);
    assertCanSetOnHand(row, onHand);
    return toStockView(await store.updateOnHand(tx, productId, onHand));
  }) as Promise<Stock>;
}

export async function onProductCreated(tx: Tx, event: EventData<typeof ProductCreated>): Promise<void> {
  await store.insertStock(tx, event.productId, event.initialStock);
}

export async function onProductDeleted(tx: Tx, event: EventData<typeof ProductDeleted>): Promise<void> {
  await store.retireStock(tx, event.productId);
}

/** Why a reservation held nothing: the order was closed first, or it holds already. */
function logSkipped(closed: boolean): void {
  logger.info(
    closed
      ? 'order already closed (cancelled before its reservation); holding nothing'
      : 'order already has reservations; nothing to do',
  );
}

export async function reserveStock(tx: Tx, order: EventData<typeof OrderPlaced>): Promise<void> {
  const lines = normaliseLines(order.items);
  const outcome = await store.reserveLines(tx, order.orderId, lines);
  if (outcome.kind === 'skipped') return logSkipped(outcome.closed);
  if (outcome.kind === 'refused') {
    const reason = rejectionReason(outcome.refusal);
    logger.info('stock rejected', { reason });
    await publish(tx, StockRejected, { orderId: order.orderId, reason });
    return;
  }
  if (outcome.kind !== 'held')
    throw new Error(`order ${order.orderId}: a reservation in a transaction answered ${outcome.kind}`);
  logger.info('stock reserved', { lines: lines.length });
  await publish(tx, StockReserved, { orderId: order.orderId, items: lines });
}

/**
 * reserveStock in one statement of its own (no transaction: the claim and the stock.reserved row
 * written by it). A refusal is `declined`, and the consumer takes the record through
 * `reserveStock` in a transaction, which words and publishes the rejection.
 */
export async function reserveStockAlone(
  claim: Claim,
  order: EventData<typeof OrderPlaced>,
): Promise<OutboxRow[] | 'duplicate' | 'declined'> {
  const lines = normaliseLines(order.items);
  const reserved = draft(StockReserved, { orderId: order.orderId, items: lines });
  const outcome = await store.reserveLines(db(), order.orderId, lines, { claim, reserved });
  switch (outcome.kind) {
    case 'held':
      logger.info('stock reserved', { lines: lines.length });
      return [{ id: outcome.outboxId!, ...reserved }];
    case 'skipped':
      logSkipped(outcome.closed);
      return [];
    case 'refused':
      throw new Error(`order ${order.orderId}: a reservation alone answered refused instead of declining`);
    default:
      return outcome.kind;
  }
}

/** order.completed commits the held stock; order.failed and order.cancelled release it. */
export async function settleReservation(tx: Tx, closing: ClosingEvent): Promise<void> {
  logSettled(closing, await store.settleHeld(tx, closing.data.orderId, settlementOf(closing)));
}

/**
 * settleReservation in one statement (`kafkaHandler`'s applyInOneStatement): the settlement and
 * the record's claim together. It publishes nothing.
 */
export async function settleReservationAlone(claim: Claim, closing: ClosingEvent): Promise<[] | 'duplicate'> {
  const settled = await store.settleHeld(db(), closing.data.orderId, settlementOf(closing), claim);
  if (settled === 'duplicate') return settled;
  logSettled(closing, settled);
  return [];
}

type ClosingEvent = EventOf<typeof OrderCompleted | typeof OrderFailed | typeof OrderCancelled>;

const settlementOf = (closing: ClosingEvent) =>
  closing.type === 'OrderCompleted' ? 'COMMITTED' : 'RELEASED';

function logSettled(closing: ClosingEvent, settled: readonly Line[]): void {
  logger.info(
    settled.length ? `reservation ${settlementOf(closing).toLowerCase()}` : 'no held reservation to settle',
    { closingEvent: closing.type, lines: settled.length },
  );
}
