/**
 * Kafka delivers at least once: every event type of the saga is delivered again — the very same
 * record (same event id) and a re-published copy under a new event id — and nothing changes.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { api, eventually, requireEnv } from '../support/api.ts';
import { closeTestDb, seedProduct, stockSettlesAt, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { CONSUMER_OF, orderEventsConsumed, place, settled } from './saga-helpers.ts';

afterEach(expectInvariants);
afterAll(closeTestDb);

interface OutboxRow {
  topic: string;
  key: string;
  payload: { eventId: string; type: string; occurredAt: string; data: unknown };
  headers: Record<string, string>;
}

async function snapshot(orderId: string, productId: string) {
  const sql = testDb();
  return {
    order: (await api('GET', `/orders/${orderId}`)).body,
    timeline: (await api('GET', `/orders/${orderId}/timeline`)).body.items.length,
    payments: (await api('GET', `/orders/${orderId}/payments`)).body.items,
    stock: (await sql`select on_hand, reserved from inventory.stock where product_id = ${productId}`)[0],
    reservations:
      await sql`select product_id, quantity, status from inventory.reservations where order_id = ${orderId}`,
    outbox: (await sql`select count(*)::int as n from platform.outbox where key = ${orderId}`)[0]!.n,
  };
}

it('redelivering every event type of completed, failed, rejected and cancelled orders changes nothing', async () => {
  const product = await seedProduct({ onHand: 3 });
  const completed = await place([{ productId: product, quantity: 1 }]);
  const failed = await place([{ productId: product, quantity: 1 }], '4000000000000002');
  const rejected = await place([{ productId: product, quantity: 5 }]);
  // The timeout card holds the order in its charge for seconds, so the cancel cannot lose a race
  // against an approval (the saga completes a 4242 order in about 50 ms).
  const cancelled = await place([{ productId: product, quantity: 1 }], '4000000000000408');
  expect((await api('POST', `/orders/${cancelled.id}/cancel`)).status).toBe(200);
  const orders = [completed, failed, rejected, cancelled].map((o) => o.id);
  await Promise.all(orders.map((id) => settled(id)));
  await stockSettlesAt(product, { onHand: 2, reserved: 0 });
  // The cancel does not wait for the timeout card's charge: it settles seconds later and the
  // cancel's void step voids it. Snapshot once no payment is open and every event of the four
  // orders is consumed (the cancelled order's release, and a late stock.reserved's re-release).
  await eventually(
    async () =>
      (
        await testDb()`select 1 from payment.payments where order_id in ${testDb()(orders)} and status = 'PENDING'`
      ).length === 0,
    { timeoutMs: 60_000, what: 'every payment settled or voided' },
  );
  await orderEventsConsumed(orders);
  expect(
    await testDb()`select 1 from inventory.reservations where order_id = ${cancelled.id} and status = 'HELD'`,
  ).toHaveLength(0);

  const before = await Promise.all(orders.map((id) => snapshot(id, product)));
  const rows = await testDb()<
    OutboxRow[]
  >`select topic, key, payload, headers from platform.outbox where key in ${testDb()(orders)} and published_at is not null order by id`;
  const types = new Set(rows.map((row) => row.payload.type));
  expect([...types].sort()).toEqual(Object.keys(CONSUMER_OF).sort());

  const kafka = new Kafka({ brokers: requireEnv('KAFKA_BROKERS').split(','), logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  const copies: { consumer: string; eventId: string }[] = [];
  try {
    for (const row of rows) {
      const fresh = { ...row.payload, eventId: randomUUID() };
      copies.push({ consumer: CONSUMER_OF[row.payload.type]!, eventId: fresh.eventId });
      // The same record again, then a re-published copy under a new id, on the same partition.
      await producer.send({
        topic: row.topic,
        messages: [row.payload, fresh].map((value) => ({
          key: row.key,
          value: JSON.stringify(value),
          headers: row.headers,
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
  // Once every new-id copy is recorded as processed, the same-id copies before them were consumed too.
  await eventually(
    async () => {
      const done =
        await testDb()`select record_key from platform.processed_records where record_key in ${testDb()(copies.map((c) => c.eventId))}`;
      return done.length === copies.length;
    },
    { timeoutMs: 30_000, what: 'redelivered records consumed' },
  );
  // Whatever the copies made the saga write (there should be nothing) has run its course too.
  await orderEventsConsumed(orders);
  const after = await Promise.all(orders.map((id) => snapshot(id, product)));
  expect(after).toEqual(before);
}, 90_000);
