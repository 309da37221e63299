/**
 * The order service's HTTP-facing domain: place (with Idempotency-Key), read, list, timeline and
 * cancel. Placing writes the order, its first timeline entry and the order.placed event in one
 * transaction (transactional outbox). Placement refuses only malformed requests; unknown, deleted
 * or short products are the inventory's call and end the order REJECTED asynchronously. A product
 * listed twice is merged into one line.
 */
import { createHash, randomUUID } from 'node:crypto';
import { db, type Queryable } from '#layers/db';
import { ConflictError, NotFoundError, ValidationError } from '#layers/errors';
import { inTransaction, enqueue } from '#layers/outbox';
import { logger } from '#layers/observability';
import { TOPICS } from '#layers/topics';
import type { OrderCancelledData, OrderPlacedData, PaymentRequestedData } from '#layers/schemas/order-events';
import { countOrderOutcome } from './metrics.ts';
import {
  addTimeline,
  catalogPrices,
  findOrder,
  findOrderByIdempotencyKey,
  insertItems,
  insertOrder,
  itemsOf,
  lockOrder,
  pageOfOrders,
  timelineOf,
  updateOrder,
  type OrderRow,
} from './repository.ts';
import { MAX_QUANTITY, type OrderView, type PlaceOrderBody, type TimelineView } from './routes.ts';
import { cancelDecision, type OrderStatus } from './saga.ts';

/** Currency of an order whose products are all unknown (it is going to be REJECTED anyway). */
const FALLBACK_CURRENCY = 'USD';

export async function placeOrder(body: PlaceOrderBody, idempotencyKey?: string): Promise<OrderView> {
  const lines = mergeLines(body.items);
  const requestHash = createHash('sha256')
    .update(JSON.stringify({ customerId: body.customerId, lines, card: body.payment.cardNumber }))
    .digest('hex');
  if (idempotencyKey) {
    const earlier = await findOrderByIdempotencyKey(db(), idempotencyKey);
    if (earlier) return sameRequestOrConflict(earlier, requestHash);
  }
  const prices = new Map(
    (
      await catalogPrices(
        db(),
        lines.map((line) => line.productId),
      )
    ).map((p) => [p.id, p]),
  );
  const currencies = new Set([...prices.values()].map((p) => p.currency));
  if (currencies.size > 1)
    throw new ValidationError(
      `The products of one order must share a currency (got ${[...currencies].join(', ')}); place one order per currency.`,
    );
  const items = lines.map((line) => ({ ...line, unitPrice: prices.get(line.productId)?.price ?? 0 }));
  const total = items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
  const currency = [...currencies][0] ?? FALLBACK_CURRENCY;
  const orderId = randomUUID();

  const placed = await inTransaction(async (tx) => {
    const row = await insertOrder(tx, {
      id: orderId,
      customerId: body.customerId,
      total,
      currency,
      idempotencyKey: idempotencyKey ?? null,
      requestHash,
      cardNumber: body.payment.cardNumber,
      items,
    });
    if (!row) return undefined;
    // One round trip for the three writes: postgres.js pipelines the queries of a transaction sent together.
    await Promise.all([
      insertItems(tx, { id: orderId, items }),
      addTimeline(tx, orderId, 'PENDING', `order placed: ${items.length} line(s), total ${total} ${currency}`),
      enqueue<OrderPlacedData>(tx, {
        topic: TOPICS.orderPlaced,
        key: orderId,
        type: TOPICS.orderPlaced,
        correlationId: orderId,
        data: { orderId, items: lines },
      }),
    ]);
    return row;
  });
  if (placed) {
    logger.info('order placed', { orderId, lines: items.length, total, currency });
    return toView(
      placed,
      items.map((item) => ({ orderId, ...item })),
    );
  }
  // A concurrent request with the same key won the insert.
  const winner = await findOrderByIdempotencyKey(db(), idempotencyKey!);
  if (!winner) throw new Error('idempotency key conflicted but its order cannot be read');
  return sameRequestOrConflict(winner, requestHash);
}

function mergeLines(items: PlaceOrderBody['items']): { productId: string; quantity: number }[] {
  const merged = new Map<string, number>();
  for (const item of items) merged.set(item.productId, (merged.get(item.productId) ?? 0) + item.quantity);
  const lines = [...merged]
    .map(([productId, quantity]) => ({ productId, quantity }))
    .sort((a, b) => a.productId.localeCompare(b.productId));
  const tooMany = lines.find((line) => line.quantity > MAX_QUANTITY);
  if (tooMany)
    throw new ValidationError(
      `Product ${tooMany.productId} is ordered ${tooMany.quantity} times in all; at most ${MAX_QUANTITY} per product.`,
      { errors: [{ path: 'body.items', message: `at most ${MAX_QUANTITY} units per product` }] },
    );
  return lines;
}

async function sameRequestOrConflict(order: OrderRow, requestHash: string): Promise<OrderView> {
  if (order.requestHash !== requestHash)
    throw new ConflictError('This Idempotency-Key was already used with a different request body.');
  return viewOf(db(), order);
}

export async function getOrder(id: string): Promise<OrderView> {
  const order = await findOrder(db(), id);
  if (!order) throw new NotFoundError(`Order ${id} does not exist.`);
  return viewOf(db(), order);
}

export async function getTimeline(id: string): Promise<TimelineView> {
  if (!(await findOrder(db(), id))) throw new NotFoundError(`Order ${id} does not exist.`);
  const entries = await timelineOf(db(), id);
  return {
    items: entries.map((entry) => ({
      at: entry.at.toISOString(),
      status: entry.status,
      detail: entry.detail,
    })),
  };
}

export async function listOrders(query: {
  customerId?: string;
  status?: OrderStatus;
  limit: number;
  cursor?: string;
}): Promise<{ items: OrderView[]; nextCursor: string | null }> {
  const rows = await pageOfOrders(db(), { ...query, limit: query.limit + 1, after: query.cursor });
  const page = rows.slice(0, query.limit);
  const items = await itemsOf(
    db(),
    page.map((row) => row.id),
  );
  return {
    items: page.map((row) =>
      toView(
        row,
        items.filter((item) => item.orderId === row.id),
      ),
    ),
    nextCursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null,
  };
}

export async function cancelOrder(id: string): Promise<OrderView> {
  await inTransaction(async (tx) => {
    const order = await lockOrder(tx, id);
    if (!order) throw new NotFoundError(`Order ${id} does not exist.`);
    const decision = cancelDecision(order.status);
    if (decision === 'refuse')
      throw new ConflictError(`Order ${id} is ${order.status} and can no longer be cancelled.`);
    if (decision === 'already') return;
    await updateOrder(tx, id, { status: 'CANCELLED', failureReason: 'cancelled by request' });
    await addTimeline(tx, id, 'CANCELLED', `cancelled by request while ${order.status}; releasing stock`);
    await enqueue<OrderCancelledData>(tx, {
      topic: TOPICS.orderCancelled,
      key: id,
      type: TOPICS.orderCancelled,
      correlationId: id,
      data: { orderId: id },
    });
    if (order.paymentAttempts > 0) {
      // The last charge may still settle (its call timed out): have the saga void it.
      await enqueue<PaymentRequestedData>(tx, {
        topic: TOPICS.paymentRequested,
        key: id,
        type: TOPICS.paymentRequested,
        correlationId: id,
        data: { orderId: id, attempt: order.paymentAttempts, action: 'void' },
      });
    }
    countOrderOutcome('CANCELLED');
  });
  return getOrder(id);
}

async function viewOf(sql: Queryable, order: OrderRow): Promise<OrderView> {
  return toView(order, await itemsOf(sql, [order.id]));
}

function toView(
  order: OrderRow,
  items: { productId: string; quantity: number; unitPrice: number }[],
): OrderView {
  return {
    id: order.id,
    customerId: order.customerId,
    status: order.status,
    items: items.map((item) => ({
      productId: item.productId,
      quantity: item.quantity,
      unitPrice: item.unitPrice,
    })),
    total: order.total,
    currency: order.currency,
    paymentAttempts: order.paymentAttempts,
    ...(order.failureReason ? { failureReason: order.failureReason } : {}),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}
