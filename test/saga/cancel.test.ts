/** Cancelling while a payment retry is pending: the retry does nothing and the stock goes back. */
import { randomUUID } from 'node:crypto';
import { api, eventually } from '../support/api.ts';
import { closeTestDb, createProduct, stockSettlesAt, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { payments, place, timeline } from './saga-helpers.ts';

afterEach(expectInvariants);
afterAll(closeTestDb);

it('a cancel between two payment attempts wins: no further attempt, stock released', async () => {
  // Warm the cancel function first: a cold start must not eat the window between two attempts.
  await api('POST', `/orders/${randomUUID()}/cancel`);
  const product = await createProduct({ onHand: 4 });
  const placed = await place([{ productId: product, quantity: 3 }], '4000000000009995');
  // The wait before the sixth attempt is the longest (backoff doubles): cancel inside it.
  await eventually(async () => (await timeline(placed.id)).some((entry) => entry.detail.includes('attempt 6 scheduled')), { timeoutMs: 30_000, intervalMs: 50, what: 'attempt 6 scheduled' });
  const cancelled = await api('POST', `/orders/${placed.id}/cancel`);
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({ status: 'CANCELLED', paymentAttempts: 5 });
  await stockSettlesAt(product, { onHand: 4, reserved: 0 });

  // The scheduled attempt is still delivered; processPayment sees the order cancelled and skips it.
  const [scheduled] = await testDb()<{ eventId: string }[]>`
    select payload->>'eventId' as event_id from platform.outbox
    where key = ${placed.id} and payload->>'type' = 'payment.requested' and (payload->'data'->>'attempt')::int = 6`;
  await eventually(async () => (await testDb()`select 1 from platform.processed_records where consumer = 'order.processPayment' and record_key = ${scheduled!.eventId}`).length > 0, {
    timeoutMs: 15_000,
    what: 'the scheduled attempt consumed',
  });
  expect(await payments(placed.id)).toHaveLength(5);
  const order = (await api('GET', `/orders/${placed.id}`)).body;
  expect(order).toMatchObject({ status: 'CANCELLED', paymentAttempts: 5 });
  expect((await timeline(placed.id)).at(-1)).toMatchObject({ status: 'CANCELLED' });
});
