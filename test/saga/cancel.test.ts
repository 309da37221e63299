/** Cancelling while a payment retry is pending: the retry does nothing and the stock goes back. */
import { randomUUID } from 'node:crypto';
import { api, eventually } from '../support/api.ts';
import { closeTestDb, injectTrigger, seedProduct, stockSettlesAt, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import {
  chargeAnswered,
  holdBackNextPaymentStep,
  invoke,
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

it('a cancel while the first charge is being recorded: the approval that lands after the void step is voided too', async () => {
  const product = await seedProduct({ onHand: 2 });
  const customerId = randomUUID();
  const fn = `held_charge_${customerId.replaceAll('-', '')}`;
  const sql = testDb();
  // The fault, from data: recording this customer's charge waits for a lock the test holds, so the
  // cancel's void step runs (and finds nothing to void) before the charge is recorded APPROVED.
  const gate = await sql.reserve();
  await gate`select pg_advisory_lock(hashtextextended(${customerId}, 0))`;
  const removeFault = await injectTrigger(fn, {
    when: 'before insert',
    table: 'payment.payments',
    body: `if exists (select 1 from orders.orders where id = new.order_id and customer_id = '${customerId}') then
        perform pg_advisory_xact_lock_shared(hashtextextended('${customerId}', 0));
      end if;`,
  });
  try {
    // A warm void function, so the cancel's void step finishes well inside the charge call's 2 s.
    await invoke('voidPayments', { orderId: randomUUID() });
    const placed = await place([{ productId: product, quantity: 1 }], '4242424242424242', { customerId });
    await eventually(
      async () =>
        (
          await sql`select 1 from pg_stat_activity
                    where datname = current_database() and wait_event = 'advisory' and query ilike '%insert into payment.payments%'`
        ).length > 0,
      { timeoutMs: 30_000, intervalMs: 20, what: 'the first charge waiting to be recorded' },
    );
    const cancelled = await api('POST', `/orders/${placed.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', paymentAttempts: 1 });
    // The cancel's void step consumed (or, on a slow host, 1 s passed: the charge call must still
    // be answered within its timeout), then the charge is recorded.
    await eventually(
      async () =>
        (
          await sql`select 1 from platform.processed_records r join platform.outbox o on o.payload->>'eventId' = r.record_key
                    where r.consumer = 'order.processPayment' and o.key = ${placed.id}
                      and o.payload->'data'->>'action' = 'void'`
        ).length > 0,
      { timeoutMs: 1000, intervalMs: 10, what: "the cancel's void step" },
    ).catch(() => console.log("the cancel's void step had not run within 1 s; releasing the charge anyway"));
    await gate`select pg_advisory_unlock(hashtextextended(${customerId}, 0))`;

    // The charge answers APPROVED to a cancelled order, and has it voided.
    await eventually(async () => (await payments(placed.id))[0]?.status === 'VOIDED', {
      timeoutMs: 30_000,
      what: 'the late approval voided',
    });
    await orderEventsConsumed([placed.id]);
    expect(await payments(placed.id)).toMatchObject([{ attempt: 1, status: 'VOIDED' }]);
    expect((await api('GET', `/orders/${placed.id}`)).body).toMatchObject({ status: 'CANCELLED' });
    expect((await timeline(placed.id)).map((entry) => entry.detail)).toContainEqual(
      expect.stringContaining('answered approved after the cancel; voiding it'),
    );
    await stockSettlesAt(product, { onHand: 2, reserved: 0 });
  } finally {
    gate.release();
    await removeFault();
  }
}, 90_000);
