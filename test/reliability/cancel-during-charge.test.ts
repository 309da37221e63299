/**
 * No lock across a call: the payment step records its attempt and commits, calls chargePayment
 * with no transaction open, and only then locks the order again to apply the answer. While a slow
 * charge (the timeout card 4000000000000408) is in flight, the order's row is free and no backend
 * of the run sits idle in a transaction, so a cancel is answered at once; the late approval is
 * voided and the order stays CANCELLED.
 */
import { api, eventually } from '../support/api.ts';
import { closeTestDb, seedProduct, stockSettlesAt, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { chargeAnswered, orderEventsConsumed, payments, place, timeline } from '../saga/saga-helpers.ts';
import { deadLetters } from './support.ts';

afterAll(closeTestDb);

/** The charge is in flight: recorded by the payment service, not yet answered to the order. */
async function chargeInFlight(orderId: string): Promise<{ chargeStartedAt: Date } | undefined> {
  const [row] = await testDb()<{ status: string; chargeStartedAt: Date | null }[]>`
    select o.status,
      (select p.created_at from payment.payments p where p.order_id = o.id and p.attempt = 1 and p.status = 'PENDING') as charge_started_at
    from orders.orders o where o.id = ${orderId}`;
  const answered = (await timeline(orderId)).some((entry) => entry.detail.includes('payment attempt 1'));
  if (row?.status !== 'RESERVED' || !row.chargeStartedAt || answered) return undefined;
  return { chargeStartedAt: row.chargeStartedAt };
}

it('a cancel during a slow charge is answered at once: no lock or open transaction is held across the call; the late approval is voided', async () => {
  const product = await seedProduct({ onHand: 3 });
  const placed = await place([{ productId: product, quantity: 1 }], '4000000000000408');
  const { chargeStartedAt } = await eventually(() => chargeInFlight(placed.id), {
    timeoutMs: 30_000,
    intervalMs: 20,
    what: 'the charge in flight',
  });

  const sql = testDb();
  // The order's row can be locked without waiting (processPayment holds no lock on it) …
  const locked = await sql
    .begin((tx) => tx`select id from orders.orders where id = ${placed.id} for update nowait`)
    .then(
      (rows) => rows.length,
      (error: Error) => error.message,
    );
  expect(locked).toBe(1);
  // … and no backend of this run has kept a transaction open since before the charge began.
  const idle = await sql<{ pid: number; query: string }[]>`
    select pid, query from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid()
      and state like 'idle in transaction%' and xact_start <= ${chargeStartedAt}`;
  expect(idle).toEqual([]);
  // Both observed while the charge was still unanswered.
  expect(await chargeInFlight(placed.id)).toBeDefined();

  const cancelled = await api('POST', `/orders/${placed.id}/cancel`);
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({ status: 'CANCELLED', paymentAttempts: 1 });

  // The charge settles approved after the cancel; the cancel's void step voids it.
  await eventually(async () => (await payments(placed.id))[0]?.status === 'VOIDED', {
    timeoutMs: 30_000,
    what: 'the late approval voided',
  });
  // The charge call itself wakes at its settle time and answers: once it has (answered_at), nothing
  // about this charge can change any more, and it must still be voided.
  await chargeAnswered(placed.id, 1, 30_000);
  await orderEventsConsumed([placed.id]);
  expect(await payments(placed.id)).toMatchObject([{ attempt: 1, status: 'VOIDED' }]);
  expect((await api('GET', `/orders/${placed.id}`)).body).toMatchObject({
    status: 'CANCELLED',
    paymentAttempts: 1,
  });
  await stockSettlesAt(product, { onHand: 3, reserved: 0 });
  expect(await deadLetters([placed.id])).toEqual([]);
  await expectInvariants();
}, 90_000);
