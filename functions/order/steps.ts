/**
 * The order service's operations, one per function: placing (with Idempotency-Key), reading,
 * listing, the timeline and cancelling over HTTP, and the saga steps its Kafka consumers run
 * inside the consumer's transaction (which also records the event as processed).
 *
 * Placing writes the order, its first timeline entry and the order.placed event in one statement
 * (transactional outbox). Prices come from the order service's own price list, kept from the
 * product.* events (`onProductChanged`); a product not in it yet is asked of the product service
 * (getProductPrices). Placement refuses only malformed requests; unknown, deleted or short
 * products are the inventory's call and end the order REJECTED asynchronously. A product listed
 * twice is merged into one line.
 *
 * Each saga step first locks the order row and checks that the order is still where the event
 * expects it; a stale or repeated event changes nothing. Payment: processPayment takes stock.reserved
 * (the order becomes RESERVED and attempt 1 is charged) and payment.requested (every later step),
 * charges through the Lambda Invoke API and decides (decisions.ts). No lock is held across that
 * call: the step records its attempt in one committed statement, calls the payment function with
 * no transaction open (`callPayment`), then applies the answer only if that attempt is still the
 * current one: an answer that ends the order in one statement with the record's claim
 * (`processPaymentAlone`), anything else under the order's row lock in the record's transaction
 * (`processPayment`). A charge call that times out is followed by an inquiry before anything
 * else; a charge still settling is inquired again later (a delayed payment.requested
 * {action: inquire}), never charged anew.
 * Transient failures request the next attempt with exponential backoff via the outbox's
 * `availableAt`. A cancel after the first charge requests a `void` step, so a charge that settles
 * after the cancel is voided.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { db, type Queryable, type Tx } from '#layers/db';
import { once, readEnv } from '#layers/env';
import { ConflictError, DependencyError, NotFoundError, ValidationError } from '#layers/errors';
import {
  OrderCancelled,
  OrderCompleted,
  OrderFailed,
  OrderPlaced,
  PaymentRequested,
  type EventData,
  type EventOf,
  type ProductCreated,
  type ProductDeleted,
  type ProductUpdated,
  type StockRejected,
  type StockReserved,
} from '#layers/events';
import { logger, metrics, MetricUnit } from '#layers/observability';
import type { Claim } from '#layers/kafka/consumer';
import {
  draft,
  inTransaction,
  publish,
  publishDraft,
  publishPending,
  type DraftRow,
  type OutboxRow,
} from '#layers/outbox';
import { paymentIdFor, type ChargeResult } from '#layers/schemas/payment';
import { InvokeTimeoutError } from '#layers/invoke';
import * as clients from './clients.ts';
import { MAX_QUANTITY, type OrderView, type PlaceOrderBody, type TimelineView } from './contract.ts';
import {
  cancelDecision,
  decideAfterPayment,
  type NextStep,
  type OrderStatus,
  type PaymentAnswer,
  type RetryPolicy,
  voidAfterCancel,
} from './decisions.ts';
import * as store from './store.ts';

/**
 * One step of a payment, as processPayment runs it: a payment.requested's (defaults applied), or
 * the first charge, which a stock.reserved starts (`reservedLines`: the order is PENDING until then).
 */
type PaymentStep = EventData<typeof PaymentRequested> & { reservedLines?: number };

/** The payment step a processPayment record asks for. */
export function paymentStepOf(event: EventOf<typeof StockReserved | typeof PaymentRequested>): PaymentStep {
  if (event.type === 'PaymentRequested') return event.data;
  const { orderId, items } = event.data;
  return { orderId, attempt: 1, action: 'charge', inquiries: 0, reservedLines: items.length };
}

/** Currency of an order whose products are all unknown (it is going to be REJECTED anyway). */
const FALLBACK_CURRENCY = 'USD';

export async function placeOrder(body: PlaceOrderBody, idempotencyKey?: string): Promise<OrderView> {
  const lines = mergeLines(body.items);
  const requestHash = createHash('sha256')
    .update(JSON.stringify({ customerId: body.customerId, lines, card: body.payment.cardNumber }))
    .digest('hex');
  const productIds = lines.map((line) => line.productId);
  // Both reads at once: postgres.js pipelines them on the instance's connection (one round trip).
  const [earlier, listed] = await Promise.all([
    idempotencyKey ? store.findOrderByIdempotencyKey(db(), idempotencyKey) : undefined,
    store.listedPrices(db(), productIds),
  ]);
  if (earlier) return sameRequestOrConflict(earlier, requestHash);
  const prices = await pricesOf(productIds, listed);
  const currencies = new Set([...prices.values()].map((p) => p.currency));
  if (currencies.size > 1)
    throw new ValidationError(
      `The products of one order must share a currency (got ${[...currencies].join(', ')}); place one order per currency.`,
    );
  const items = lines.map((line) => ({ ...line, unitPrice: prices.get(line.productId)?.price ?? 0 }));
  const total = items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0);
  const currency = [...currencies][0] ?? FALLBACK_CURRENCY;
  const orderId = randomUUID();

  const event = draft(OrderPlaced, { orderId, items: lines });
  const placed = await store.insertPlacedOrder(
    db(),
    {
      id: orderId,
      customerId: body.customerId,
      total,
      currency,
      idempotencyKey: idempotencyKey ?? null,
      requestHash,
      cardNumber: body.payment.cardNumber,
      items,
    },
    `order placed: ${items.length} line(s), total ${total} ${currency}`,
    event,
  );
  if (placed) {
    await publishPending([{ id: placed.outboxId, ...event }]);
    logger.info('order placed', { orderId, lines: items.length, total, currency });
    return toView(
      placed.order,
      items.map((item) => ({ orderId, ...item })),
    );
  }
  // A concurrent request with the same key won the insert.
  const winner = await store.findOrderByIdempotencyKey(db(), idempotencyKey!);
  if (!winner) throw new Error('idempotency key conflicted but its order cannot be read');
  return sameRequestOrConflict(winner, requestHash);
}

/**
 * Prices from the order service's own price list (`listed`: what it holds of the products). A
 * product it has not heard of (created a moment ago, its product.created not applied yet) is asked
 * of the product service, and the answer goes into the list; a product the catalog does not know
 * stays unpriced (inventory rejects it).
 */
async function pricesOf(
  productIds: readonly string[],
  listed: readonly store.ListedPrice[],
): Promise<Map<string, store.ListedPrice>> {
  const prices = new Map(listed.map((p) => [p.productId, p]));
  const unheardOf = productIds.filter((id) => !prices.has(id));
  if (!unheardOf.length) return prices;
  let answer: store.ListedPrice[];
  try {
    answer = await clients.getProductPrices(unheardOf);
  } catch (error) {
    // Nothing is written yet: the client may retry (503), with the same Idempotency-Key.
    throw new DependencyError('The catalog could not be asked for prices; retry shortly.', {
      cause: error,
    });
  }
  await store.learnPrices(db(), answer);
  for (const price of answer) prices.set(price.productId, price);
  logger.info('prices asked of the product service', { asked: unheardOf.length, known: answer.length });
  return prices;
}

/**
 * onProductChanged (product.created / updated / deleted): the price list follows the catalog,
 * each product only forward in version (the three topics do not keep their order between them).
 */
export async function onProductChanged(
  tx: Tx,
  change: EventOf<typeof ProductCreated | typeof ProductUpdated | typeof ProductDeleted>,
): Promise<void> {
  const { productId, price, currency, version } = change.data;
  await store.learnPrices(tx, [
    { productId, price, currency, version, deleted: change.type === 'ProductDeleted' },
  ]);
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

async function sameRequestOrConflict(order: store.OrderRow, requestHash: string): Promise<OrderView> {
  if (order.requestHash !== requestHash)
    throw new ConflictError('This Idempotency-Key was already used with a different request body.');
  return viewOf(db(), order);
}

export async function getOrder(id: string): Promise<OrderView> {
  const order = await store.findOrder(db(), id);
  if (!order) throw new NotFoundError(`Order ${id} does not exist.`);
  return viewOf(db(), order);
}

export async function getOrderTimeline(id: string): Promise<TimelineView> {
  if (!(await store.findOrder(db(), id))) throw new NotFoundError(`Order ${id} does not exist.`);
  const entries = await store.timelineOf(db(), id);
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
  const rows = await store.pageOfOrders(db(), { ...query, limit: query.limit + 1, after: query.cursor });
  const page = rows.slice(0, query.limit);
  const items = await store.itemsOf(
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
    const order = await store.lockOrder(tx, id);
    if (!order) throw new NotFoundError(`Order ${id} does not exist.`);
    const decision = cancelDecision(order.status);
    if (decision === 'refuse')
      throw new ConflictError(`Order ${id} is ${order.status} and can no longer be cancelled.`);
    if (decision === 'already') return;
    await pipelined(
      store.updateOrder(tx, id, { status: 'CANCELLED', failureReason: 'cancelled by request' }),
      store.addTimeline(tx, id, 'CANCELLED', `cancelled by request while ${order.status}; releasing stock`),
      publish(tx, OrderCancelled, { orderId: id }),
      // The last charge may still settle (its call timed out): have the saga void it.
      order.paymentAttempts > 0 &&
        requestPayment(tx, id, { attempt: order.paymentAttempts, action: 'void', inquiries: 0 }),
    );
    countOrderOutcome('CANCELLED');
  });
  return getOrder(id);
}

async function viewOf(sql: Queryable, order: store.OrderRow): Promise<OrderView> {
  return toView(order, await store.itemsOf(sql, [order.id]));
}

function toView(
  order: store.OrderRow,
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

const SagaEnv = z.object({
  PAYMENT_RETRY_BASE_MS: z.coerce.number().int().positive().default(1000),
  PAYMENT_RETRY_CAP_MS: z.coerce.number().int().positive().default(30_000),
  PAYMENT_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(6),
  PAYMENT_INQUIRY_DELAY_MS: z.coerce.number().int().min(0).default(1000),
  PAYMENT_MAX_INQUIRIES: z.coerce.number().int().min(1).default(20),
});
const policy = once((): RetryPolicy => {
  const env = readEnv(SagaEnv);
  return {
    maxAttempts: env.PAYMENT_MAX_ATTEMPTS,
    baseMs: env.PAYMENT_RETRY_BASE_MS,
    capMs: env.PAYMENT_RETRY_CAP_MS,
    inquiryDelayMs: env.PAYMENT_INQUIRY_DELAY_MS,
    maxInquiries: env.PAYMENT_MAX_INQUIRIES,
  };
});

export async function onStockRejected(tx: Tx, data: EventData<typeof StockRejected>): Promise<void> {
  const order = await store.lockOrder(tx, data.orderId);
  if (!order || order.status !== 'PENDING')
    return logger.info('stock.rejected ignored', { status: order?.status });
  await pipelined(
    store.updateOrder(tx, order.id, { status: 'REJECTED', failureReason: data.reason }),
    store.addTimeline(tx, order.id, 'REJECTED', `stock rejected: ${data.reason}`),
  );
  countOrderOutcome('REJECTED');
}

/** What a payment step learnt from the payment service, before its transaction. */
export type PaymentCall =
  | { kind: 'skipped' }
  | { kind: 'answered'; answer: PaymentAnswer; notes: string[] }
  | { kind: 'voided'; voided: string[] };

/**
 * The part of a payment step that calls the payment service, with no transaction open: a charge
 * first records its attempt on the order (one statement, committed, so a cancel meanwhile sees it
 * and voids it), then charges; an inquiry asks; a void voids. Nothing here holds the order's row lock or a
 * connection while the payment function runs. A charge step that is run again (its Lambda timed
 * out after the attempt was recorded) charges the same attempt again: the payment id is a UUIDv5
 * of order and attempt, so the payment service answers with what it recorded.
 */
export async function callPayment(step: PaymentStep): Promise<PaymentCall> {
  if (step.action === 'void') {
    const order = await store.findOrder(db(), step.orderId);
    if (order?.status !== 'CANCELLED') {
      logger.info('void skipped: the order is not cancelled', { status: order?.status });
      return { kind: 'skipped' };
    }
    return { kind: 'voided', voided: (await clients.voidPayments(step.orderId)).voided };
  }
  const started = await store.startPaymentAttempt(db(), {
    orderId: step.orderId,
    attempt: step.attempt,
    charge: step.action === 'charge',
    reservedNote:
      step.reservedLines === undefined
        ? undefined
        : `stock reserved for ${step.reservedLines} line(s); charging payment`,
  });
  if (!started) {
    // A stock.reserved of a cancelled order included: inventory releases that stock itself.
    logger.info('payment step skipped: the order is not awaiting this attempt', { attempt: step.attempt });
    return { kind: 'skipped' };
  }
  if (step.action === 'inquire')
    return { kind: 'answered', answer: await inquire(step.orderId, step.attempt), notes: [] };
  return charge(started, started.cardNumber, step.attempt);
}

/**
 * The transaction part of a payment step: locks the order again and applies the answer if the
 * attempt is still the one the order awaits. An answer that comes after a cancel is not applied,
 * and one that may hold money requests a void step of its own: the cancel's void step may already
 * have run, finding nothing, while this charge was being recorded (the first charge comes from
 * stock.reserved, the void steps from payment.requested: two mappings, no order between them).
 */
export async function processPayment(tx: Tx, step: PaymentStep, call: PaymentCall): Promise<void> {
  if (call.kind === 'skipped') return;
  if (call.kind === 'voided') {
    if (call.voided.length)
      await store.addTimeline(
        tx,
        step.orderId,
        'CANCELLED',
        `voided ${call.voided.length} charge(s) of the cancelled order (${call.voided.join(', ')})`,
      );
    return;
  }
  const order = await store.lockOrder(tx, step.orderId);
  if (!order || order.status !== 'RESERVED' || order.paymentAttempts !== step.attempt) {
    logger.info('payment answer not applied: the order moved on during the call', {
      status: order?.status,
      attempt: step.attempt,
      answer: call.answer.kind,
    });
    if (order?.status === 'CANCELLED') {
      const voiding = voidAfterCancel(call.answer);
      await pipelined(
        store.addTimeline(
          tx,
          order.id,
          'CANCELLED',
          `payment attempt ${step.attempt} answered ${call.answer.kind} after the cancel${voiding ? '; voiding it' : ''}`,
        ),
        voiding && requestPayment(tx, order.id, { attempt: step.attempt, action: 'void', inquiries: 0 }),
      );
    }
    return;
  }
  countPaymentAnswer(step, call.answer);
  await pipelined(
    ...call.notes.map((note) => store.addTimeline(tx, order.id, 'RESERVED', note)),
    ...apply(tx, order, step, decideAfterPayment(call.answer, step, policy())),
  );
}

async function charge(order: store.OrderRow, cardNumber: string, attempt: number): Promise<PaymentCall> {
  try {
    const result = await clients.chargePayment({
      orderId: order.id,
      attempt,
      amount: order.total,
      currency: order.currency,
      cardNumber,
    });
    return { kind: 'answered', answer: fromResult(result), notes: [] };
  } catch (error) {
    const why =
      error instanceof InvokeTimeoutError
        ? 'the charge call timed out'
        : `the charge call failed (${(error as Error).message})`;
    logger.warn(`payment attempt ${attempt}: ${why}; inquiring before anything else`, {
      error: error as Error,
    });
    return {
      kind: 'answered',
      answer: await inquire(order.id, attempt),
      notes: [`payment attempt ${attempt}: ${why}; asked the payment service how it ended`],
    };
  }
}

async function inquire(orderId: string, attempt: number): Promise<PaymentAnswer> {
  try {
    const inquiry = await clients.inquirePayment(paymentIdFor(orderId, attempt));
    return inquiry.found ? fromResult(inquiry.result) : { kind: 'absent' };
  } catch (error) {
    return { kind: 'unknown', why: `inquiry failed (${(error as Error).message})` };
  }
}

function fromResult(result: ChargeResult): PaymentAnswer {
  switch (result.status) {
    case 'APPROVED':
      return { kind: 'approved', paymentId: result.paymentId };
    case 'DECLINED':
      return { kind: 'declined', code: result.failureCode ?? 'declined' };
    case 'FAILED':
      return result.retryable
        ? { kind: 'failed', code: result.failureCode ?? 'failed' }
        : { kind: 'declined', code: result.failureCode ?? 'failed' };
    case 'PENDING':
      return { kind: 'pending' };
    case 'VOIDED':
      return { kind: 'declined', code: 'voided' };
  }
}

/**
 * processPayment in one statement (`kafkaHandler`'s applyInOneStatement): an answer that ends the
 * order (approved, or failed for good) is applied with the record's claim, while the order awaits
 * this attempt. Anything else — a retry or inquiry to schedule, a skipped or void step, an order
 * that moved on during the call — is declined, and `processPayment` takes it in a transaction.
 */
export async function processPaymentAlone(
  claim: Claim,
  step: PaymentStep,
  call: PaymentCall,
): Promise<OutboxRow[] | 'duplicate' | 'declined'> {
  if (call.kind !== 'answered') return 'declined';
  const next = decideAfterPayment(call.answer, step, policy());
  if (next.kind !== 'complete' && next.kind !== 'fail') return 'declined';
  const end = endingOf(step.orderId, step, next);
  const done = await store.endWithPaymentAnswer(
    db(),
    claim,
    {
      orderId: step.orderId,
      attempt: step.attempt,
      status: end.status,
      failureReason: end.failureReason,
      timeline: [
        ...call.notes.map((detail) => ({ status: 'RESERVED' as const, detail })),
        { status: end.status, detail: end.detail },
      ],
    },
    end.closing,
  );
  if (typeof done === 'string') return done;
  countPaymentAnswer(step, call.answer);
  countOrderOutcome(end.status);
  return [{ id: done.outboxId, ...end.closing }];
}

/** How a payment answer ends an order: its status, the timeline's words and the closing event. */
function endingOf(
  orderId: string,
  step: PaymentStep,
  next: Extract<NextStep, { kind: 'complete' | 'fail' }>,
): { status: 'COMPLETED' | 'FAILED'; failureReason: string | undefined; detail: string; closing: DraftRow } {
  if (next.kind === 'complete')
    return {
      status: 'COMPLETED',
      failureReason: undefined,
      detail: `payment attempt ${step.attempt} approved (payment ${next.paymentId}); stock committed`,
      closing: draft(OrderCompleted, { orderId, paymentId: next.paymentId }),
    };
  return {
    status: 'FAILED',
    failureReason: next.reason,
    detail: `${next.reason}; releasing stock`,
    closing: draft(OrderFailed, { orderId, reason: next.reason }),
  };
}

/** The writes that carry out the decision, issued at once (to be awaited together, in this order). */
function apply(tx: Tx, order: store.OrderRow, step: PaymentStep, next: NextStep): Promise<unknown>[] {
  const { id } = order;
  switch (next.kind) {
    case 'complete':
    case 'fail': {
      const end = endingOf(id, step, next);
      countOrderOutcome(end.status);
      return [
        store.updateOrder(tx, id, { status: end.status, failureReason: end.failureReason }),
        store.addTimeline(tx, id, end.status, end.detail),
        publishDraft(tx, end.closing),
      ];
    }
    case 'retry':
      return laterStep(
        tx,
        id,
        next.delayMs,
        { attempt: next.nextAttempt, action: 'charge', inquiries: 0 },
        (at) =>
          `payment attempt ${step.attempt} failed (${next.reason}); attempt ${next.nextAttempt} scheduled at ${at}`,
      );
    case 'inquire':
      return laterStep(
        tx,
        id,
        next.delayMs,
        { attempt: step.attempt, action: 'inquire', inquiries: next.inquiries },
        (at) => `payment attempt ${step.attempt} ${next.reason}; inquiring again at ${at}`,
      );
  }
}

/** A payment step scheduled `delayMs` from now, and the timeline entry that says when. */
function laterStep(
  tx: Tx,
  orderId: string,
  delayMs: number,
  step: Omit<PaymentStep, 'orderId'>,
  note: (at: string) => string,
): Promise<unknown>[] {
  const at = new Date(Date.now() + delayMs);
  return [
    store.addTimeline(tx, orderId, 'RESERVED', note(at.toISOString())),
    requestPayment(tx, orderId, step, at),
  ];
}

/**
 * Awaits writes issued together: postgres.js pipelines the statements of one transaction sent
 * before the first answer, so they cost one round trip and run in the order they were issued.
 * (`false` stands for a write a condition left out.)
 */
async function pipelined(...writes: (Promise<unknown> | false)[]): Promise<void> {
  await Promise.all(writes);
}

/** Asks processPayment to run a payment step, now or (a retry, a later inquiry) at `availableAt`. */
async function requestPayment(
  tx: Tx,
  orderId: string,
  step: Omit<PaymentStep, 'orderId'>,
  availableAt?: Date,
): Promise<void> {
  await publish(tx, PaymentRequested, { ...step, orderId }, { availableAt });
}

/**
 * One CloudWatch metric (embedded metric format) per saga outcome and per payment answer, each
 * written at once with its own dimension. One single-metric instance serves them all: it clears
 * its dimension after each write, and creating one per call was a measurable share of a step's CPU.
 */
const singleMetric = once(() => metrics.singleMetric());
function count(name: string, dimension: string, value: string): void {
  const single = singleMetric();
  single.addDimension(dimension, value);
  single.addMetric(name, MetricUnit.Count, 1);
}

const countOrderOutcome = (outcome: 'COMPLETED' | 'REJECTED' | 'FAILED' | 'CANCELLED') =>
  count('OrdersFinished', 'outcome', outcome);
/** A charge's answer counts as its kind, an inquiry's as `inquiry-<kind>`. */
const countPaymentAnswer = (step: PaymentStep, answer: PaymentAnswer) =>
  count('PaymentAttempts', 'result', step.action === 'charge' ? answer.kind : `inquiry-${answer.kind}`);
