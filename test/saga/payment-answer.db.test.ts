/**
 * processPayment's one statement straight against Postgres (no HTTP, no Kafka): an answer that
 * ends the order is written with the record's claim, the new status, the timeline entries in
 * order and the closing event, all together; an order that moved on during the call, or a claim
 * that is there already, writes nothing; answers that schedule a later step are declined to the
 * transaction.
 */
import { randomUUID } from 'node:crypto';
import { db } from '#layers/db';
import { OrderCompleted, OrderFailed } from '#layers/events';
import * as steps from '../../functions/order/steps.ts';
import { claimsOf, closeTestDb, outboxEventsOf, testDb } from '../support/fixtures.ts';

// A retryable failure of attempt 1 schedules a retry (decisions.ts), not the end of the order.
process.env.PAYMENT_MAX_ATTEMPTS = '6';
// The single-metric instance is created at its first use: no metric lines in the test output.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';

afterAll(async () => {
  await db().end();
  await closeTestDb();
});

const CONSUMER = 'order.processPayment';
const newClaim = () => ({ consumer: CONSUMER, recordKey: randomUUID() });
const chargeStep = (orderId: string, attempt = 1) =>
  ({ orderId, attempt, action: 'charge', inquiries: 0 }) as const;
const approved = (paymentId: string): steps.PaymentCall => ({
  kind: 'answered',
  answer: { kind: 'approved', paymentId },
  notes: [],
});

/** An order awaiting the answer to payment attempt `attempt` (or in another status). */
async function orderAt(status: string, attempt = 1): Promise<string> {
  const id = randomUUID();
  await testDb()`
    insert into orders.orders (id, customer_id, status, total, currency, card_number, card_last4, payment_attempts)
    values (${id}, ${randomUUID()}, ${status}, 1999, 'USD', '4242424242424242', '4242', ${attempt})`;
  return id;
}

const orderOf = async (id: string) =>
  (
    await testDb()<{ status: string; failureReason: string | null }[]>`
    select status, failure_reason from orders.orders where id = ${id}`
  )[0];
const timelineOf = async (id: string) =>
  testDb()<{ status: string; detail: string }[]>`
    select status, detail from orders.timeline where order_id = ${id} order by id`;

it('an approval completes the order with its claim, its timeline entries in order and order.completed, together', async () => {
  const orderId = await orderAt('RESERVED');
  const claim = newClaim();
  const paymentId = randomUUID();
  const call: steps.PaymentCall = {
    kind: 'answered',
    answer: { kind: 'approved', paymentId },
    notes: ['payment attempt 1: the charge call timed out; asked the payment service how it ended'],
  };

  const rows = await steps.processPaymentAlone(claim, chargeStep(orderId), call);

  expect(rows).toEqual([
    expect.objectContaining({
      key: orderId,
      payload: expect.objectContaining({ type: OrderCompleted.type }),
    }),
  ]);
  expect(await orderOf(orderId)).toEqual({ status: 'COMPLETED', failureReason: null });
  expect(await timelineOf(orderId)).toEqual([
    { status: 'RESERVED', detail: call.notes[0] },
    { status: 'COMPLETED', detail: `payment attempt 1 approved (payment ${paymentId}); stock committed` },
  ]);
  expect(await outboxEventsOf(orderId)).toEqual([
    { type: OrderCompleted.type, data: { orderId, paymentId } },
  ]);
  expect(await claimsOf(claim)).toBe(1);
});

it('a decline fails the order with its reason and order.failed', async () => {
  const orderId = await orderAt('RESERVED');
  const call: steps.PaymentCall = {
    kind: 'answered',
    answer: { kind: 'declined', code: 'card_declined' },
    notes: [],
  };

  await steps.processPaymentAlone(newClaim(), chargeStep(orderId), call);

  const reason = 'payment declined (card_declined)';
  expect(await orderOf(orderId)).toEqual({ status: 'FAILED', failureReason: reason });
  expect(await timelineOf(orderId)).toEqual([{ status: 'FAILED', detail: `${reason}; releasing stock` }]);
  expect(await outboxEventsOf(orderId)).toEqual([{ type: OrderFailed.type, data: { orderId, reason } }]);
});

it.each([
  ['cancelled during the call', 'CANCELLED', 1],
  ['already completed (a redelivered record)', 'COMPLETED', 1],
  ['awaiting a later attempt', 'RESERVED', 2],
])('an order %s: declined, nothing written', async (_, status, attempt) => {
  const orderId = await orderAt(status, attempt);
  const claim = newClaim();

  expect(await steps.processPaymentAlone(claim, chargeStep(orderId), approved(randomUUID()))).toBe(
    'declined',
  );

  expect(await orderOf(orderId)).toEqual({ status, failureReason: null });
  expect(await timelineOf(orderId)).toEqual([]);
  expect(await outboxEventsOf(orderId)).toEqual([]);
  expect(await claimsOf(claim)).toBe(0);
});

it('a claim that is there already: duplicate, the order untouched', async () => {
  const orderId = await orderAt('RESERVED');
  const claim = newClaim();
  await testDb()`insert into platform.processed_records (consumer, record_key) values (${claim.consumer}, ${claim.recordKey})`;

  expect(await steps.processPaymentAlone(claim, chargeStep(orderId), approved(randomUUID()))).toBe(
    'duplicate',
  );

  expect(await orderOf(orderId)).toEqual({ status: 'RESERVED', failureReason: null });
  expect(await timelineOf(orderId)).toEqual([]);
  expect(await outboxEventsOf(orderId)).toEqual([]);
});

it.each([
  [
    'a retryable failure (a retry to schedule)',
    { kind: 'answered', answer: { kind: 'failed', code: 'processor_error' }, notes: [] },
  ],
  [
    'a charge still settling (an inquiry to schedule)',
    { kind: 'answered', answer: { kind: 'pending' }, notes: [] },
  ],
  ['a skipped step', { kind: 'skipped' }],
  ['a void step', { kind: 'voided', voided: [] }],
] satisfies [string, steps.PaymentCall][])(
  '%s: declined to the transaction, nothing written',
  async (_, call) => {
    const orderId = await orderAt('RESERVED');

    expect(await steps.processPaymentAlone(newClaim(), chargeStep(orderId), call)).toBe('declined');

    expect(await orderOf(orderId)).toEqual({ status: 'RESERVED', failureReason: null });
    expect(await timelineOf(orderId)).toEqual([]);
  },
);

it('two deliveries of one record at the same time: one ends the order, the other writes nothing', async () => {
  const orderId = await orderAt('RESERVED');
  const claim = newClaim();
  const call = approved(randomUUID());

  const outcomes = await Promise.all([
    steps.processPaymentAlone(claim, chargeStep(orderId), call),
    steps.processPaymentAlone(claim, chargeStep(orderId), call),
  ]);

  expect(outcomes.filter(Array.isArray)).toHaveLength(1);
  expect(outcomes.filter((o) => !Array.isArray(o))).toEqual([
    expect.stringMatching(/^(declined|duplicate)$/),
  ]);
  expect(await timelineOf(orderId)).toHaveLength(1);
  expect(await outboxEventsOf(orderId)).toHaveLength(1);
});
