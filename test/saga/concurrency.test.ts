/**
 * Concurrency cases modelled on real oversell reports: a flash sale oversubscribing stock, and
 * bundles contending for the same products listed in opposite orders (deadlock bait). Every
 * request of a case goes out at the same instant, as a flash sale's do; the reservations race in
 * the reserveStock consumers (concurrent invocations over six partitions, all locking the same
 * stock row).
 */
import { randomUUID } from 'node:crypto';
import { closeTestDb, seedProduct, stockSettlesAt, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { customerOrdersSettled, place } from './saga-helpers.ts';

afterEach(expectInvariants);
afterAll(closeTestDb);

const count = (statuses: string[]) =>
  statuses.reduce<Record<string, number>>(
    (acc, status) => ({ ...acc, [status]: (acc[status] ?? 0) + 1 }),
    {},
  );

it('flash sale: 100 orders racing for stock 20 → exactly 20 COMPLETED, 80 REJECTED, nothing oversold', async () => {
  const product = await seedProduct({ onHand: 20 });
  const customerId = randomUUID();
  const accepted = await Promise.all(
    Array.from({ length: 100 }, () =>
      place([{ productId: product, quantity: 1 }], '4242424242424242', { customerId }),
    ),
  );
  expect(accepted.map((order) => order.status)).toEqual(Array(100).fill('PENDING'));
  const finals = await customerOrdersSettled(customerId, 100, 150_000);
  expect(count(finals.map((order) => order.status))).toEqual({ COMPLETED: 20, REJECTED: 80 });
  await stockSettlesAt(product, { onHand: 0, reserved: 0 });
  const [held] =
    await testDb()`select count(*)::int as n from inventory.reservations where product_id = ${product} and status = 'HELD'`;
  expect(held!.n).toBe(0);
}, 240_000);

it('bundles listing the same products in opposite orders all complete (no deadlock)', async () => {
  const [a, b, c] = await Promise.all([
    seedProduct({ onHand: 50 }),
    seedProduct({ onHand: 50 }),
    seedProduct({ onHand: 50 }),
  ]);
  const customerId = randomUUID();
  const bundles = Array.from({ length: 30 }, (_, i) =>
    i % 2 === 0
      ? [
          { productId: a!, quantity: 1 },
          { productId: b!, quantity: 1 },
          { productId: c!, quantity: 1 },
        ]
      : [
          { productId: c!, quantity: 1 },
          { productId: b!, quantity: 1 },
          { productId: a!, quantity: 1 },
        ],
  );
  await Promise.all(bundles.map((items) => place(items, '4242424242424242', { customerId })));
  const finals = await customerOrdersSettled(customerId, 30);
  expect(count(finals.map((order) => order.status))).toEqual({ COMPLETED: 30 });
  for (const product of [a!, b!, c!]) await stockSettlesAt(product, { onHand: 20, reserved: 0 });
}, 120_000);
