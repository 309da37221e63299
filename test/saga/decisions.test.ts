/** Unit tests (no I/O) of the saga's pure decisions: card table, backoff, next step, reservations. */
import { uuidV5 } from '#layers/ids';
import { paymentIdFor } from '#layers/schemas/payment';
import { normaliseLines, rejectionReason } from '../../functions/inventory/decisions.ts';
import {
  backoffMs,
  cancelDecision,
  decideAfterPayment,
  isWellFormedCardNumber,
  type RetryPolicy,
  voidAfterCancel,
} from '../../functions/order/decisions.ts';
import { seededUniform, simulateCharge, TEST_CARDS } from '../../functions/payment/decisions.ts';

const policy: RetryPolicy = {
  maxAttempts: 6,
  baseMs: 1000,
  capMs: 30_000,
  inquiryDelayMs: 500,
  maxInquiries: 3,
};
const noChaos = { failureRate: 0, timeoutRate: 0, seed: 's' };
const order = '8d2f4b7e-1c3a-4e5f-9a8b-7c6d5e4f3a2b';

describe('payment simulator card table', () => {
  it.each([
    [TEST_CARDS.approved, 1, 'approved'],
    [TEST_CARDS.declined, 1, 'declined'],
    [TEST_CARDS.insufficientFunds, 6, 'failed'],
    [TEST_CARDS.processingError, 1, 'failed'],
    [TEST_CARDS.timeout, 1, 'slow-approval'],
    [TEST_CARDS.approvedOnThirdAttempt, 2, 'failed'],
    [TEST_CARDS.approvedOnThirdAttempt, 3, 'approved'],
    ['4111111111111111', 1, 'approved'],
  ])('card %s on attempt %i is %s', (card, attempt, kind) => {
    expect(simulateCharge(card, order, attempt, noChaos).kind).toBe(kind);
  });

  it('chaos mode is reproducible per seed and orderId:attempt, and follows the rates', () => {
    const chaos = { failureRate: 0.3, timeoutRate: 0.2, seed: 'run-42' };
    const outcomes = Array.from(
      { length: 2000 },
      (_, i) => simulateCharge('4111111111111111', order, i + 1, chaos).kind,
    );
    // The draws are SHA-256 of "seed\0orderId:attempt" (computed independently of the simulator).
    expect(outcomes.slice(0, 6)).toEqual([
      'approved',
      'slow-approval',
      'slow-approval',
      'approved',
      'failed',
      'approved',
    ]);
    expect(
      Array.from(
        { length: 6 },
        (_, i) => simulateCharge('4111111111111111', order, i + 1, { ...chaos, seed: 'run-43' }).kind,
      ),
    ).toEqual(['approved', 'approved', 'failed', 'slow-approval', 'approved', 'failed']);
    const share = (kind: string) => outcomes.filter((k) => k === kind).length / outcomes.length;
    expect(share('failed')).toBeGreaterThan(0.25);
    expect(share('failed')).toBeLessThan(0.35);
    expect(share('slow-approval')).toBeGreaterThan(0.15);
    expect(share('slow-approval')).toBeLessThan(0.25);
    expect(seededUniform('a', 'k')).toBeCloseTo(0.6022105, 6);
    expect(seededUniform('b', 'k')).toBeCloseTo(0.1498708, 6);
  });
});

describe('backoff and next step', () => {
  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(1, policy, () => 0)).toBe(500);
    expect(backoffMs(1, policy, () => 1)).toBe(1000);
    expect(backoffMs(3, policy, () => 0)).toBe(2000);
    expect(backoffMs(10, policy, () => 1)).toBe(30_000);
  });

  it('retries transient failures at most 5 times after the first attempt', () => {
    expect(
      decideAfterPayment(
        { kind: 'failed', code: 'insufficient_funds' },
        { attempt: 5, inquiries: 0 },
        policy,
        () => 0,
      ),
    ).toEqual({ kind: 'retry', nextAttempt: 6, delayMs: 8000, reason: 'insufficient_funds' });
    expect(
      decideAfterPayment(
        { kind: 'failed', code: 'insufficient_funds' },
        { attempt: 6, inquiries: 0 },
        policy,
      ),
    ).toEqual({ kind: 'fail', reason: 'payment failed after 6 attempts (last: insufficient_funds)' });
  });

  it('fails a decline at once and completes an approval', () => {
    expect(
      decideAfterPayment({ kind: 'declined', code: 'card_declined' }, { attempt: 1, inquiries: 0 }, policy),
    ).toMatchObject({ kind: 'fail' });
    expect(
      decideAfterPayment({ kind: 'approved', paymentId: 'p' }, { attempt: 2, inquiries: 0 }, policy),
    ).toEqual({ kind: 'complete', paymentId: 'p' });
  });

  it('inquires again while a charge is settling, never charging anew until inquiries run out', () => {
    expect(decideAfterPayment({ kind: 'pending' }, { attempt: 1, inquiries: 0 }, policy)).toEqual({
      kind: 'inquire',
      inquiries: 1,
      delayMs: 500,
      reason: 'still settling',
    });
    expect(
      decideAfterPayment({ kind: 'unknown', why: 'x' }, { attempt: 1, inquiries: 2 }, policy),
    ).toMatchObject({ kind: 'inquire', inquiries: 3 });
    expect(decideAfterPayment({ kind: 'pending' }, { attempt: 1, inquiries: 3 }, policy)).toMatchObject({
      kind: 'retry',
      nextAttempt: 2,
    });
    expect(decideAfterPayment({ kind: 'absent' }, { attempt: 1, inquiries: 0 }, policy)).toMatchObject({
      kind: 'inquire',
      inquiries: 1,
    });
    expect(decideAfterPayment({ kind: 'absent' }, { attempt: 1, inquiries: 3 }, policy)).toMatchObject({
      kind: 'retry',
      nextAttempt: 2,
      reason: 'no final answer after 3 inquiries',
    });
  });

  it('cancels only orders not yet finished', () => {
    expect(
      ['PENDING', 'RESERVED', 'CANCELLED', 'COMPLETED', 'FAILED', 'REJECTED'].map((s) =>
        cancelDecision(s as never),
      ),
    ).toEqual(['cancel', 'cancel', 'already', 'refuse', 'refuse', 'refuse']);
  });
});

describe('a payment answer after a cancel', () => {
  it('is voided unless it certainly holds no money', () => {
    const paymentId = '00000000-0000-5000-8000-000000000000';
    expect(voidAfterCancel({ kind: 'approved', paymentId })).toBe(true);
    expect(voidAfterCancel({ kind: 'pending' })).toBe(true);
    expect(voidAfterCancel({ kind: 'unknown', why: 'inquiry failed' })).toBe(true);
    expect(voidAfterCancel({ kind: 'absent' })).toBe(true);
    expect(voidAfterCancel({ kind: 'declined', code: 'card_declined' })).toBe(false);
    expect(voidAfterCancel({ kind: 'failed', code: 'insufficient_funds' })).toBe(false);
  });
});

describe('reservation decision', () => {
  const a = '00000000-0000-4000-8000-00000000000a';
  const b = '00000000-0000-4000-8000-00000000000b';
  it('merges repeated products and sorts lines by product id (the lock order)', () => {
    expect(
      normaliseLines([
        { productId: b, quantity: 1 },
        { productId: a, quantity: 2 },
        { productId: b, quantity: 3 },
      ]),
    ).toEqual([
      { productId: a, quantity: 2 },
      { productId: b, quantity: 4 },
    ]);
  });
  it('lower-cases ids before merging, as Postgres compares uuids', () => {
    expect(
      normaliseLines([
        { productId: a.toUpperCase(), quantity: 1 },
        { productId: a, quantity: 2 },
      ]),
    ).toEqual([{ productId: a, quantity: 3 }]);
  });
  it('names the refused product and why (unknown, deleted, not enough stock)', () => {
    expect(rejectionReason({ productId: a, quantity: 3, available: 2, orderable: true })).toBe(
      `product ${a}: 3 requested, 2 available`,
    );
    expect(rejectionReason({ productId: b, quantity: 1, available: 1, orderable: false })).toBe(
      `product ${b} can no longer be ordered`,
    );
    expect(rejectionReason({ productId: b, quantity: 1, available: null, orderable: null })).toBe(
      `product ${b} is unknown`,
    );
  });
});

describe('ids and cards', () => {
  it('computes RFC 9562 UUIDv5 (DNS namespace example) and stable payment ids', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
    // UUIDv5 of "payment:<orderId>:<attempt>" in the shopstream namespace (layers/ids.ts).
    expect(paymentIdFor(order, 1)).toBe('7458889e-ee14-5b33-a976-2a8632ce0a8f');
    expect(paymentIdFor(order, 2)).toBe('b4e0b3e8-88d5-5cc6-b654-afd04e76807d');
  });
  it('checks card numbers with Luhn', () => {
    expect(Object.values(TEST_CARDS).every(isWellFormedCardNumber)).toBe(true);
    expect(isWellFormedCardNumber('4242424242424241')).toBe(false);
    expect(isWellFormedCardNumber('42424242')).toBe(false);
  });
});
