/** Cancelling while a payment retry is pending: the retry does nothing and the stock goes back. */
import { api, eventually } from '../support/api.ts';
import { closeTestDb, seedProduct, stockSettlesAt, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import {
  chargeAnswered,
  holdBackNextPaymentStep,
  orderEventsConsumed,
  payments,
  place,
  timeline,
} from './saga-helpers.ts';

afterEach(expectInvariants);
afterAll(closeTestDb);

it('a cancel between two payment attempts wins: no further attempt, stock released', async () => {
  const product = await seedProduct({ onHand: 4 });
  const placed = await place([{ productId: product, quantity: 3 }], '4000000000009995');
  // A failed attempt's retry waits in the outbox; hold it back a few seconds longer than its
  // backoff, so the cancel lands while the retry is pending even on a busy host.
  const pending = await holdBackNextPaymentStep(placed.id, 'charge', 5000);
  const attemptsBefore = pending.attempt - 1;
  expect(attemptsBefore).toBeGreaterThanOrEqual(1);
  const cancelled = await api('POST', `/orders/${placed.id}/cancel`);
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({ status: 'CANCELLED', paymentAttempts: attemptsBefore });
  await stockSettlesAt(product, { onHand: 4, reserved: 0 });

  // The scheduled attempt is still delivered; processPayment sees the order cancelled and skips it.
  const [scheduled] = await testDb()<{ eventId: string }[]>`
    select payload->>'eventId' as event_id from platform.outbox
    where key = ${placed.id} and payload->>'type' = 'PaymentRequested' and (payload->'data'->>'attempt')::int = ${pending.attempt}`;
  await eventually(
    async () =>
      (
        await testDb()`select 1 from platform.processed_records where consumer = 'order.processPayment' and record_key = ${scheduled!.eventId}`
      ).length > 0,
    {
      timeoutMs: 30_000,
      what: 'the scheduled attempt consumed',
    },
  );
  expect(await payments(placed.id)).toHaveLength(attemptsBefore);
  const order = (await api('GET', `/orders/${placed.id}`)).body;
  expect(order).toMatchObject({ status: 'CANCELLED', paymentAttempts: attemptsBefore });
  expect((await timeline(placed.id)).at(-1)).toMatchObject({ status: 'CANCELLED' });
});

it('a cancel while a timed-out charge is still settling voids it: the customer is not charged', async () => {
  const product = await seedProduct({ onHand: 4 });
  const placed = await place([{ productId: product, quantity: 2 }], '4000000000000408');
  // The charge call has timed out and the saga waits to inquire again: keep it waiting while we cancel.
  await holdBackNextPaymentStep(placed.id, 'inquire', 3000);
  expect((await timeline(placed.id)).some((entry) => entry.detail.includes('timed out'))).toBe(true);
  const cancelled = await api('POST', `/orders/${placed.id}/cancel`);
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({ status: 'CANCELLED', paymentAttempts: 1 });
  await eventually(async () => (await payments(placed.id))[0]?.status === 'VOIDED', {
    timeoutMs: 15_000,
    what: 'charge voided',
  });
  await stockSettlesAt(product, { onHand: 4, reserved: 0 });
  // Once the charge call has woken at its settle time and answered (answered_at), and the saga's
  // held-back inquiry has been consumed, nothing about the charge can change: it stays voided.
  await chargeAnswered(placed.id, 1, 15_000);
  await orderEventsConsumed([placed.id]);
  expect(await payments(placed.id)).toMatchObject([{ attempt: 1, status: 'VOIDED' }]);
  expect((await api('GET', `/orders/${placed.id}`)).body.status).toBe('CANCELLED');
  expect((await timeline(placed.id)).at(-1)?.detail).toContain('voided 1 charge');
});
