/**
 * The order service's saga steps, run by its Kafka consumers inside the consumer's transaction
 * (which also records the event as processed). Each step first locks the order row and checks
 * that the order is still where the event expects it; a stale or repeated event changes nothing.
 *
 * Payment: stock.reserved enqueues payment.requested {attempt 1, charge}; processPayment charges
 * through the Lambda Invoke API and decides (saga.ts). No lock is held across that call: the
 * step records its attempt and commits, calls the payment function with no transaction open
 * (`callPayment`), then locks the order again and applies the answer only if that attempt is
 * still the current one (`applyPaymentCall`). A charge call that times out is followed by
 * an inquiry before anything else; a charge still settling is inquired again later (a delayed
 * payment.requested {action: inquire}), never charged anew. Transient failures re-enqueue the next
 * attempt with exponential backoff via the outbox's `availableAt`. A cancel after the first charge
 * enqueues a `void` step, so a charge that settles after the cancel is voided.
 */
import { z } from 'zod';
import { db, type Tx } from '#layers/db';
import { once, readEnv } from '#layers/env';
import { enqueue, inTransaction } from '#layers/outbox';
import { logger } from '#layers/observability';
import { TOPICS } from '#layers/topics';
import { paymentIdFor, type ChargeResult } from '#layers/schemas/payment';
import type {
  OrderCompletedData,
  OrderFailedData,
  PaymentRequestedData,
  StockRejectedData,
  StockReservedData,
} from '#layers/schemas/order-events';
import { countOrderOutcome, countPaymentAttempt } from './metrics.ts';
import { chargeCard, inquirePayment, PaymentTimeoutError, voidOrderPayments } from './payment-client.ts';
import { addTimeline, cardToCharge, findOrder, lockOrder, updateOrder, type OrderRow } from './repository.ts';
import { decideAfterPayment, type NextStep, type PaymentAnswer, type RetryPolicy } from './saga.ts';

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

export async function onStockReserved(tx: Tx, data: StockReservedData): Promise<void> {
  const order = await lockOrder(tx, data.orderId);
  if (!order) return logger.warn('stock reserved for an unknown order');
  // A cancelled order's stock is released by inventory itself (it serialises cancel and reserve).
  if (order.status !== 'PENDING') return logger.info('stock.reserved ignored', { status: order.status });
  await updateOrder(tx, order.id, { status: 'RESERVED' });
  await addTimeline(
    tx,
    order.id,
    'RESERVED',
    `stock reserved for ${data.items.length} line(s); requesting payment`,
  );
  await requestPayment(tx, order.id, { attempt: 1, action: 'charge', inquiries: 0 });
}

export async function onStockRejected(tx: Tx, data: StockRejectedData): Promise<void> {
  const order = await lockOrder(tx, data.orderId);
  if (!order || order.status !== 'PENDING')
    return logger.info('stock.rejected ignored', { status: order?.status });
  await updateOrder(tx, order.id, { status: 'REJECTED', failureReason: data.reason });
  await addTimeline(tx, order.id, 'REJECTED', `stock rejected: ${data.reason}`);
  countOrderOutcome('REJECTED');
}

/** What a payment step learnt from the payment service, before its transaction. */
export type PaymentCall =
  | { kind: 'skipped' }
  | { kind: 'answered'; answer: PaymentAnswer; notes: string[] }
  | { kind: 'voided'; voided: string[] };

/**
 * The part of a payment step that calls the payment service, with no transaction open: a charge
 * first records its attempt on the order and commits (so a cancel meanwhile sees it and voids
 * it), then charges; an inquiry asks; a void voids. Nothing here holds the order's row lock or a
 * connection while the payment function runs. A charge step that is run again (its Lambda timed
 * out after the attempt was recorded) charges the same attempt again: the payment id is a UUIDv5
 * of order and attempt, so the payment service answers with what it recorded.
 */
export async function callPayment(step: Required<PaymentRequestedData>): Promise<PaymentCall> {
  if (step.action === 'void') {
    const order = await findOrder(db(), step.orderId);
    if (order?.status !== 'CANCELLED') {
      logger.info('void skipped: the order is not cancelled', { status: order?.status });
      return { kind: 'skipped' };
    }
    return { kind: 'voided', voided: (await voidOrderPayments(step.orderId)).voided };
  }
  const started = await inTransaction((tx) => startAttempt(tx, step));
  if (!started) return { kind: 'skipped' };
  if (step.action === 'inquire')
    return { kind: 'answered', answer: await inquire(step.orderId, step.attempt), notes: [] };
  return charge(started.order, started.cardNumber, step.attempt);
}

/** Locks the order, checks the step is the one it awaits, and records a charge's attempt. */
async function startAttempt(
  tx: Tx,
  step: Required<PaymentRequestedData>,
): Promise<{ order: OrderRow; cardNumber: string } | undefined> {
  const order = await lockOrder(tx, step.orderId);
  if (!order || order.status !== 'RESERVED') {
    logger.info('payment step skipped: the order is not awaiting payment', {
      status: order?.status,
      attempt: step.attempt,
    });
    return undefined;
  }
  const fresh = step.action === 'charge' && order.paymentAttempts === step.attempt - 1;
  if (!fresh && order.paymentAttempts !== step.attempt) {
    logger.info('stale payment step skipped', { attempt: step.attempt, recorded: order.paymentAttempts });
    return undefined;
  }
  if (fresh) await updateOrder(tx, order.id, { paymentAttempts: step.attempt });
  return { order, cardNumber: step.action === 'charge' ? await cardToCharge(tx, order.id) : '' };
}

/**
 * The transaction part of a payment step: locks the order again and applies the answer if the
 * attempt is still the one the order awaits. An answer that comes after a cancel is not applied:
 * the cancel recorded a void step for this attempt, which runs after this one (same key, same
 * partition) and voids whatever the charge left pending or approved.
 */
export async function applyPaymentCall(
  tx: Tx,
  step: Required<PaymentRequestedData>,
  call: PaymentCall,
): Promise<void> {
  if (call.kind === 'skipped') return;
  if (call.kind === 'voided') {
    if (call.voided.length)
      await addTimeline(
        tx,
        step.orderId,
        'CANCELLED',
        `voided ${call.voided.length} charge(s) of the cancelled order (${call.voided.join(', ')})`,
      );
    return;
  }
  const order = await lockOrder(tx, step.orderId);
  if (!order || order.status !== 'RESERVED' || order.paymentAttempts !== step.attempt) {
    logger.info('payment answer not applied: the order moved on during the call', {
      status: order?.status,
      attempt: step.attempt,
      answer: call.answer.kind,
    });
    if (order?.status === 'CANCELLED')
      await addTimeline(
        tx,
        order.id,
        'CANCELLED',
        `payment attempt ${step.attempt} answered ${call.answer.kind} after the cancel; the cancel's void step voids it`,
      );
    return;
  }
  for (const note of call.notes) await addTimeline(tx, order.id, 'RESERVED', note);
  countPaymentAttempt(step.action === 'charge' ? call.answer.kind : `inquiry-${call.answer.kind}`);
  await apply(tx, order, step, decideAfterPayment(call.answer, step, policy()));
}

async function charge(order: OrderRow, cardNumber: string, attempt: number): Promise<PaymentCall> {
  try {
    const result = await chargeCard({
      orderId: order.id,
      attempt,
      amount: order.total,
      currency: order.currency,
      cardNumber,
    });
    return { kind: 'answered', answer: fromResult(result), notes: [] };
  } catch (error) {
    const why =
      error instanceof PaymentTimeoutError
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
    const inquiry = await inquirePayment(paymentIdFor(orderId, attempt));
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

async function apply(
  tx: Tx,
  order: OrderRow,
  step: Required<PaymentRequestedData>,
  next: NextStep,
): Promise<void> {
  const { id } = order;
  switch (next.kind) {
    case 'complete':
      await updateOrder(tx, id, { status: 'COMPLETED' });
      await addTimeline(
        tx,
        id,
        'COMPLETED',
        `payment attempt ${step.attempt} approved (payment ${next.paymentId}); stock committed`,
      );
      await enqueue<OrderCompletedData>(tx, {
        topic: TOPICS.orderCompleted,
        key: id,
        type: TOPICS.orderCompleted,
        correlationId: id,
        data: { orderId: id, paymentId: next.paymentId },
      });
      countOrderOutcome('COMPLETED');
      return;
    case 'fail':
      await updateOrder(tx, id, { status: 'FAILED', failureReason: next.reason });
      await addTimeline(tx, id, 'FAILED', `${next.reason}; releasing stock`);
      await enqueue<OrderFailedData>(tx, {
        topic: TOPICS.orderFailed,
        key: id,
        type: TOPICS.orderFailed,
        correlationId: id,
        data: { orderId: id, reason: next.reason },
      });
      countOrderOutcome('FAILED');
      return;
    case 'retry': {
      const at = new Date(Date.now() + next.delayMs);
      await addTimeline(
        tx,
        id,
        'RESERVED',
        `payment attempt ${step.attempt} failed (${next.reason}); attempt ${next.nextAttempt} scheduled at ${at.toISOString()}`,
      );
      await requestPayment(tx, id, { attempt: next.nextAttempt, action: 'charge', inquiries: 0 }, at);
      return;
    }
    case 'inquire': {
      const at = new Date(Date.now() + next.delayMs);
      await addTimeline(
        tx,
        id,
        'RESERVED',
        `payment attempt ${step.attempt} ${next.reason}; inquiring again at ${at.toISOString()}`,
      );
      await requestPayment(
        tx,
        id,
        { attempt: step.attempt, action: 'inquire', inquiries: next.inquiries },
        at,
      );
      return;
    }
  }
}

async function requestPayment(
  tx: Tx,
  orderId: string,
  data: Omit<Required<PaymentRequestedData>, 'orderId'>,
  availableAt?: Date,
): Promise<void> {
  await enqueue<PaymentRequestedData>(tx, {
    topic: TOPICS.paymentRequested,
    key: orderId,
    type: TOPICS.paymentRequested,
    correlationId: orderId,
    data: { ...data, orderId },
    ...(availableAt ? { availableAt } : {}),
  });
}
