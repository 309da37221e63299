/**
 * The payment service's operations, one per function: charge (idempotent per `orderId:attempt`: a repeated call returns
 * the recorded answer and never charges twice), inquiry, and reads. A slow charge (the timeout test
 * card, or chaos) is recorded PENDING with a settle time, and the call keeps running past it, so the
 * caller's Invoke times out first; whichever comes first — the call waking up or an inquiry after
 * the settle time — marks it APPROVED. Voiding (the order was cancelled) applies to pending and
 * approved charges; a voided pending charge never settles.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { db, isPgError, PgCode } from '#layers/db';
import { once, readEnv } from '#layers/env';
import { NotFoundError } from '#layers/errors';
import { logger } from '#layers/observability';
import {
  paymentIdFor,
  type ChargeRequest,
  type ChargeResult,
  type InquiryResult,
  type VoidResult,
} from '#layers/schemas/payment';
import {
  findApprovedPayment,
  findPayment,
  insertPaymentOnce,
  listPaymentsOfOrder,
  markAnswered,
  settleDuePayment,
  voidOpenPayments,
  type PaymentRow,
} from './store.ts';
import type { PaymentView } from './contract.ts';
import { simulateCharge, type SimulatedOutcome } from './decisions.ts';

const rate = z.coerce.number().min(0).max(1).default(0);
const PaymentEnv = z.object({
  PAYMENT_FAILURE_RATE: rate,
  PAYMENT_TIMEOUT_RATE: rate,
  PAYMENT_SEED: z.string().default('shopstream'),
  /** How long a slow charge takes to settle: well past the caller's Invoke timeout (2 s). */
  PAYMENT_SLOW_CHARGE_MS: z.coerce.number().int().min(0).default(5000),
});
const env = once(() => readEnv(PaymentEnv));

export async function chargePayment(request: ChargeRequest): Promise<ChargeResult> {
  const config = env();
  const outcome = simulateCharge(request.cardNumber, request.orderId, request.attempt, {
    failureRate: config.PAYMENT_FAILURE_RATE,
    timeoutRate: config.PAYMENT_TIMEOUT_RATE,
    seed: config.PAYMENT_SEED,
  });
  const stored = await insertPaymentOnce(db(), {
    id: paymentIdFor(request.orderId, request.attempt),
    orderId: request.orderId,
    attempt: request.attempt,
    amount: request.amount,
    currency: request.currency,
    cardLast4: request.cardNumber.slice(-4),
    ...recordedState(outcome, config.PAYMENT_SLOW_CHARGE_MS),
  }).catch(async (error: unknown) => {
    // Another attempt of this order was approved (its call had timed out and it settled late):
    // never charge twice; answer with the approval that exists.
    const approved = isPgError(error, PgCode.uniqueViolation)
      ? await findApprovedPayment(db(), request.orderId)
      : undefined;
    if (!approved) throw error;
    logger.warn('order already has an approved charge; not charging again', {
      paymentId: approved.id,
      attempt: request.attempt,
    });
    return { row: approved, created: false };
  });
  const { row, created } = stored;
  logger.info(created ? 'charge recorded' : 'charge already recorded; answering from the ledger', {
    paymentId: row.id,
    attempt: row.attempt,
    status: row.status,
  });
  if (row.status !== 'PENDING' || !row.settleAt) return toResult(row);
  await sleep(Math.max(0, row.settleAt.getTime() - Date.now()));
  const answer = (await settleDuePayment(db(), row.id)) ?? (await findPayment(db(), row.id)) ?? row;
  await markAnswered(db(), row.id);
  return toResult(answer);
}

function recordedState(
  outcome: SimulatedOutcome,
  slowMs: number,
): Pick<PaymentRow, 'status' | 'failureCode' | 'retryable' | 'settleAt'> {
  switch (outcome.kind) {
    case 'approved':
      return { status: 'APPROVED', failureCode: null, retryable: false, settleAt: null };
    case 'declined':
      return { status: 'DECLINED', failureCode: outcome.code, retryable: false, settleAt: null };
    case 'failed':
      return { status: 'FAILED', failureCode: outcome.code, retryable: true, settleAt: null };
    case 'slow-approval':
      return {
        status: 'PENDING',
        failureCode: null,
        retryable: false,
        settleAt: new Date(Date.now() + slowMs),
      };
  }
}

/** The inquiry: how did this charge end? Settles a slow charge whose time has come. */
export async function inquirePayment(paymentId: string): Promise<InquiryResult> {
  const row = await currentPayment(paymentId);
  return row ? { found: true, result: toResult(row) } : { found: false };
}

/** Voids the order's open charges (idempotent: a second call finds nothing left to void). */
export async function voidPayments(orderId: string): Promise<VoidResult> {
  const voided = await voidOpenPayments(db(), orderId);
  if (voided.length) logger.info('payments voided', { orderId, voided });
  return { voided };
}

export async function getPayment(paymentId: string): Promise<PaymentView> {
  const row = await currentPayment(paymentId);
  if (!row) throw new NotFoundError(`Payment ${paymentId} does not exist.`);
  return toView(row);
}

export async function listOrderPayments(orderId: string): Promise<{ items: PaymentView[] }> {
  const rows = await listPaymentsOfOrder(db(), orderId);
  const settled = await Promise.all(
    rows.map(async (row) =>
      row.status === 'PENDING' ? ((await settleDuePayment(db(), row.id)) ?? row) : row,
    ),
  );
  return { items: settled.map(toView) };
}

async function currentPayment(paymentId: string): Promise<PaymentRow | undefined> {
  const row = await findPayment(db(), paymentId);
  if (row?.status === 'PENDING') return (await settleDuePayment(db(), paymentId)) ?? row;
  return row;
}

const toResult = (row: PaymentRow): ChargeResult => ({
  paymentId: row.id,
  status: row.status,
  retryable: row.retryable,
  ...(row.failureCode ? { failureCode: row.failureCode } : {}),
});

const toView = (row: PaymentRow): PaymentView => ({
  id: row.id,
  orderId: row.orderId,
  attempt: row.attempt,
  amount: row.amount,
  currency: row.currency,
  status: row.status,
  ...(row.failureCode ? { failureCode: row.failureCode } : {}),
  cardLast4: row.cardLast4,
  createdAt: row.createdAt.toISOString(),
  ...(row.settledAt ? { settledAt: row.settledAt.toISOString() } : {}),
});
