/**
 * The reservation SQL straight against Postgres (no HTTP, no Kafka): concurrent reservations on
 * one stock row never oversell, bundles locking products in opposite orders never deadlock, and
 * settling is idempotent and serialised with reserving.
 */
import { randomUUID } from 'node:crypto';
import { db } from '#layers/db';
import { TOPICS } from '#layers/topics';
import { reserveForOrder, settleForOrder } from '../../functions/inventory/reservation-service.ts';
import { closeTestDb, createProduct, stockOf, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';

process.env.DB_POOL_MAX = '12';

afterEach(expectInvariants);
afterAll(async () => {
  await db().end();
  await closeTestDb();
});

const reserve = (orderId: string, items: { productId: string; quantity: number }[]) =>
  db().begin((tx) => reserveForOrder(tx, { orderId, items }));
const settle = (orderId: string, event: string) => db().begin((tx) => settleForOrder(tx, orderId, event));
const heldBy = async (orderId: string) =>
  (
    await testDb()`select product_id, quantity from inventory.reservations where order_id = ${orderId} and status = 'HELD'`
  ).length;

it('40 concurrent reservations of stock 10 hold exactly 10 units', async () => {
  const product = await createProduct({ onHand: 10 });
  const orders = Array.from({ length: 40 }, () => randomUUID());
  await Promise.all(orders.map((orderId) => reserve(orderId, [{ productId: product, quantity: 1 }])));
  expect(await stockOf(product)).toEqual({ onHand: 10, reserved: 10 });
  const held = await Promise.all(orders.map(heldBy));
  expect(held.filter(Boolean)).toHaveLength(10);
  for (const orderId of orders) await settle(orderId, TOPICS.orderFailed);
  expect(await stockOf(product)).toEqual({ onHand: 10, reserved: 0 });
});

it('bundles listing products in opposite orders reserve concurrently without deadlock', async () => {
  const [a, b] = await Promise.all([createProduct({ onHand: 100 }), createProduct({ onHand: 100 })]);
  const orders = Array.from({ length: 30 }, () => randomUUID());
  await Promise.all(
    orders.map((orderId, i) =>
      reserve(
        orderId,
        i % 2
          ? [
              { productId: a!, quantity: 2 },
              { productId: b!, quantity: 1 },
            ]
          : [
              { productId: b!, quantity: 1 },
              { productId: a!, quantity: 2 },
            ],
      ),
    ),
  );
  expect(await stockOf(a!)).toEqual({ onHand: 100, reserved: 60 });
  expect(await stockOf(b!)).toEqual({ onHand: 100, reserved: 30 });
  await Promise.all(orders.map((orderId) => settle(orderId, TOPICS.orderCompleted)));
  expect(await stockOf(a!)).toEqual({ onHand: 40, reserved: 0 });
  expect(await stockOf(b!)).toEqual({ onHand: 70, reserved: 0 });
});

it('settles once: a second commit or a late release changes nothing; a reservation is never held twice', async () => {
  const product = await createProduct({ onHand: 5 });
  const orderId = randomUUID();
  await reserve(orderId, [{ productId: product, quantity: 2 }]);
  await reserve(orderId, [{ productId: product, quantity: 2 }]);
  expect(await stockOf(product)).toEqual({ onHand: 5, reserved: 2 });
  await settle(orderId, TOPICS.orderCompleted);
  await settle(orderId, TOPICS.orderCompleted);
  await settle(orderId, TOPICS.orderCancelled);
  expect(await stockOf(product)).toEqual({ onHand: 3, reserved: 0 });
});

it('a cancel that overtakes the reservation leaves nothing held, even when both race', async () => {
  const product = await createProduct({ onHand: 50 });
  const orders = Array.from({ length: 20 }, () => randomUUID());
  await Promise.all(
    orders.flatMap((orderId) => [
      settle(orderId, TOPICS.orderCancelled),
      reserve(orderId, [{ productId: product, quantity: 1 }]),
    ]),
  );
  // Whichever ran second saw the other: either nothing was held, or it was released.
  expect(await stockOf(product)).toEqual({ onHand: 50, reserved: 0 });
  expect((await Promise.all(orders.map(heldBy))).every((n) => n === 0)).toBe(true);
});
