/**
 * The order service's saga steps, run by its Kafka consumers inside the consumer's transaction
 * (which also records the event as processed). Each step first locks the order row and checks
 * that the order is still where the event expects it; a stale or repeated event changes nothing.
 *
 * Payment: stock.reserved enqueues payment.requested {attempt 1, charge}; processPayment charges
 * through the Lambda Invoke API and decides (saga.ts). A charge call that times out is followed by
 * an inquiry before anything else; a charge still settling is inquired again later (a delayed
 * payment.requested {action: inquire}), never charged anew. Transient failures re-enqueue the next
 * attempt with exponential backoff via the outbox's `availableAt`. A cancel after the first charge
 * enqueues a `void` step, so a charge that settles after the cancel is voided.
 */
import { z } from 'zod';
import type { Tx } from '#layers/db';
import { once, readEnv } from '#layers/env';
import { enqueue } from '#layers/outbox';
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
import { addTimeline, cardToCharge, lockOrder, updateOrder, type OrderRow } from './repository.ts';
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

export async function runPaymentStep(tx: Tx, step: Required<PaymentRequestedData>): Promise<void> {
  if (step.action === 'void') return voidAfterCancel(tx, step.orderId);
  const order = await lockOrder(tx, step.orderId);
  if (!order || order.status !== 'RESERVED')
    return logger.info('payment step skipped: the order is not awaiting payment', {
      status: order?.status,
      attempt: step.attempt,
    });
  const expectedAttempt = step.action === 'charge' ? order.paymentAttempts + 1 : order.paymentAttempts;
  if (step.attempt !== expectedAttempt)
    return logger.info('stale payment step skipped', { attempt: step.attempt, expectedAttempt });

  let answer: PaymentAnswer;
  if (step.action === 'charge') {
    await updateOrder(tx, order.id, { paymentAttempts: step.attempt });
    answer = await charge(tx, order, step.attempt);
  } else {
    answer = await inquire(order.id, step.attempt);
  }
  countPaymentAttempt(step.action === 'charge' ? answer.kind : `inquiry-${answer.kind}`);
  await apply(tx, order, step, decideAfterPayment(answer, step, policy()));
}

/**
 * A cancel that lands while a charge is in doubt (its call timed out, an inquiry is pending) must
 * not leave the customer charged: void whatever is pending or approved. A failed Invoke throws,
 * so the consumer retries the step.
 */
async function voidAfterCancel(tx: Tx, orderId: string): Promise<void> {
  const order = await lockOrder(tx, orderId);
  if (order?.status !== 'CANCELLED')
    return logger.info('void skipped: the order is not cancelled', { status: order?.status });
  const { voided } = await voidOrderPayments(orderId);
  if (voided.length)
    await addTimeline(
      tx,
      orderId,
      'CANCELLED',
      `voided ${voided.length} charge(s) of the cancelled order (${voided.join(', ')})`,
    );
}

async function charge(tx: Tx, order: OrderRow, attempt: number): Promise<PaymentAnswer> {
  try {
    const result = await chargeCard({
      orderId: order.id,
      attempt,
      amount: order.total,
      currency: order.currency,
      cardNumber: await cardToCharge(tx, order.id),
    });
    return fromResult(result);
  } catch (error) {
    const why =
      error instanceof PaymentTimeoutError
        ? 'the charge call timed out'
        : `the charge call failed (${(error as Error).message})`;
    logger.warn(`payment attempt ${attempt}: ${why}; inquiring before anything else`, {
      error: error as Error,
    });
    await addTimeline(
      tx,
      order.id,
      'RESERVED',
      `payment attempt ${attempt}: ${why}; asking the payment service how it ended`,
    );
    return inquire(order.id, attempt);
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
