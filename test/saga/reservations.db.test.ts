/**
 * The reservation SQL straight against Postgres (no HTTP; Kafka only for the fast-path publish of
 * the real reserveStock handler): concurrent reservations on one stock row never oversell, bundles
 * locking products in opposite orders never deadlock, an order holds all of its lines or none with
 * a stable reason, and neither a redelivered event nor a re-published order holds twice.
 *
 * Every reservation and settlement below is tried once (no retry wrapper), so a deadlock or
 * serialisation error would show up as a rejected promise. Every case runs for both ways a
 * reservation and a settlement are applied (WAYS).
 */
import { randomUUID } from 'node:crypto';
import type { Context, MSKEvent } from 'aws-lambda';
import { db } from '#layers/db';
import { OrderPlaced, StockRejected, StockReserved } from '#layers/events';
import { disconnectProducer } from '#layers/kafka/producer';
import { TOPICS } from '#layers/topics';
import { handler as reserveStock } from '../../functions/inventory/reserveStock.ts';
import * as steps from '../../functions/inventory/steps.ts';
import { claimsOf, closeTestDb, outboxEventsOf, seedProduct, stockOf, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';

process.env.DB_POOL_MAX = '12';

afterEach(expectInvariants);
afterAll(async () => {
  await disconnectProducer();
  await db().end();
  await closeTestDb();
});

type Items = { productId: string; quantity: number }[];
type Closing = 'OrderCompleted' | 'OrderFailed' | 'OrderCancelled';
const closing = (orderId: string, type: Closing) =>
  type === 'OrderCompleted'
    ? ({ type, data: { orderId, paymentId: randomUUID() } } as const)
    : type === 'OrderFailed'
      ? ({ type, data: { orderId, reason: 'payment failed' } } as const)
      : ({ type, data: { orderId } } as const);
const newClaim = (consumer: string) => ({ consumer, recordKey: randomUUID() });
/**
 * The two ways an order.placed and its closing event are applied: the handlers' one statement
 * (which declines a refusal, then applied in a transaction, as layers/kafka/consumer.ts does), and
 * the transaction alone.
 */
const WAYS: [
  string,
  (orderId: string, items: Items) => Promise<unknown>,
  (orderId: string, type: Closing) => Promise<unknown>,
][] = [
  [
    'in one statement (the handler: a refusal then in a transaction)',
    async (orderId, items) => {
      const done = await steps.reserveStockAlone(newClaim('inventory.reserveStock'), { orderId, items });
      if (done === 'declined') await db().begin((tx) => steps.reserveStock(tx, { orderId, items }));
    },
    (orderId, type) =>
      steps.settleReservationAlone(newClaim('inventory.settleReservation'), closing(orderId, type)),
  ],
  [
    'in a transaction',
    (orderId, items) => db().begin((tx) => steps.reserveStock(tx, { orderId, items })),
    (orderId, type) => db().begin((tx) => steps.settleReservation(tx, closing(orderId, type))),
  ],
];
/** The transaction's settlement, for the cases that are not about the ways. */
const settle = WAYS[1]![2];

/** The events of an order the reservation rejected: one stock.rejected with `reason`. */
const rejected = (orderId: string, reason: unknown) => [
  { type: StockRejected.type, data: { orderId, reason } },
];

/** Runs every transaction once, concurrently, and fails naming the errors if any was refused. */
async function allOnFirstTry(transactions: Promise<unknown>[]): Promise<void> {
  const outcomes = await Promise.allSettled(transactions);
  const errors = outcomes.flatMap((o) =>
    o.status === 'rejected' ? [`${(o.reason as { code?: string }).code ?? ''} ${String(o.reason)}`] : [],
  );
  expect(errors).toEqual([]);
}

const heldBy = async (orderId: string) =>
  testDb()<{ productId: string; quantity: number }[]>`
    select product_id, quantity from inventory.reservations where order_id = ${orderId} and status = 'HELD' order by product_id`;

describe.each(WAYS)('reserving and settling %s', (_way, reserve, settle) => {
  describe('concurrency', () => {
    it('60 concurrent orders of 1–3 units on stock 25 never oversell and leave less than any refused order asked for', async () => {
      const product = await seedProduct({ onHand: 25 });
      const orders = Array.from({ length: 60 }, (_, i) => ({ orderId: randomUUID(), quantity: (i % 3) + 1 }));
      await allOnFirstTry(
        orders.map(({ orderId, quantity }) => reserve(orderId, [{ productId: product, quantity }])),
      );

      const held = await Promise.all(
        orders.map(async (order) => ({ ...order, held: await heldBy(order.orderId) })),
      );
      const holding = held.filter((o) => o.held.length);
      const refused = held.filter((o) => !o.held.length);
      const reserved = holding.reduce((sum, o) => sum + o.quantity, 0);
      expect(await stockOf(product)).toEqual({ onHand: 25, reserved });
      expect(reserved).toBeLessThanOrEqual(25);
      // Stock only went down during the run, so every refusal saw at least what is left now.
      expect(refused.length).toBeGreaterThan(0);
      expect(25 - reserved).toBeLessThan(Math.min(...refused.map((o) => o.quantity)));
      for (const order of holding)
        expect(await outboxEventsOf(order.orderId)).toEqual([
          {
            type: StockReserved.type,
            data: { orderId: order.orderId, items: [{ productId: product, quantity: order.quantity }] },
          },
        ]);
      for (const order of refused)
        expect(await outboxEventsOf(order.orderId)).toEqual(
          rejected(
            order.orderId,
            expect.stringMatching(
              new RegExp(`^product ${product}: ${order.quantity} requested, \\d available$`),
            ),
          ),
        );

      await allOnFirstTry(orders.map(({ orderId }) => settle(orderId, 'OrderFailed')));
      expect(await stockOf(product)).toEqual({ onHand: 25, reserved: 0 });
    });

    it('bundles listing three products in opposite orders reserve and settle concurrently without a deadlock', async () => {
      const [a, b, c] = await Promise.all([
        seedProduct({ onHand: 1000 }),
        seedProduct({ onHand: 1000 }),
        seedProduct({ onHand: 1000 }),
      ]);
      const bundle = (i: number): Items => {
        const lines = [
          { productId: a, quantity: 1 },
          { productId: b, quantity: 2 },
          { productId: c, quantity: 3 },
        ];
        return i % 2 ? lines : lines.reverse();
      };
      const first = Array.from({ length: 40 }, () => randomUUID());
      await allOnFirstTry(first.map((orderId, i) => reserve(orderId, bundle(i))));
      expect([await stockOf(a), await stockOf(b), await stockOf(c)]).toEqual([
        { onHand: 1000, reserved: 40 },
        { onHand: 1000, reserved: 80 },
        { onHand: 1000, reserved: 120 },
      ]);

      // Settlements (in either outcome) and new reservations of the same products, all at once.
      const second = Array.from({ length: 40 }, () => randomUUID());
      await allOnFirstTry([
        ...first.map((orderId, i) => settle(orderId, i % 2 ? 'OrderCompleted' : 'OrderCancelled')),
        ...second.map((orderId, i) => reserve(orderId, bundle(i))),
      ]);
      expect([await stockOf(a), await stockOf(b), await stockOf(c)]).toEqual([
        { onHand: 980, reserved: 40 },
        { onHand: 960, reserved: 80 },
        { onHand: 940, reserved: 120 },
      ]);
      await allOnFirstTry(second.map((orderId) => settle(orderId, 'OrderCompleted')));
      expect([await stockOf(a), await stockOf(b), await stockOf(c)]).toEqual([
        { onHand: 940, reserved: 0 },
        { onHand: 880, reserved: 0 },
        { onHand: 820, reserved: 0 },
      ]);
    });

    it('a cancel that overtakes the reservation leaves nothing held, even when both race', async () => {
      const product = await seedProduct({ onHand: 50 });
      const orders = Array.from({ length: 20 }, () => randomUUID());
      await allOnFirstTry(
        orders.flatMap((orderId) => [
          settle(orderId, 'OrderCancelled'),
          reserve(orderId, [{ productId: product, quantity: 1 }]),
        ]),
      );
      // Whichever ran second saw the other: either nothing was held, or it was released.
      expect(await stockOf(product)).toEqual({ onHand: 50, reserved: 0 });
      expect((await Promise.all(orders.map(heldBy))).every((held) => held.length === 0)).toBe(true);
    });
  });

  describe('all or nothing, with a stable reason', () => {
    it.each([
      ['not enough stock', { onHand: 1 }, (p: string) => `product ${p}: 2 requested, 1 available`],
      [
        'a product deleted in inventory and the catalog',
        { onHand: 10, deleted: true },
        (p: string) => `product ${p} can no longer be ordered`,
      ],
    ])('a bundle with %s holds none of its lines', async (_, fixture, reason) => {
      const [plenty, scarce] = await Promise.all([seedProduct({ onHand: 10 }), seedProduct(fixture)]);
      const orderId = randomUUID();
      await reserve(orderId, [
        { productId: plenty, quantity: 2 },
        { productId: scarce, quantity: 2 },
      ]);
      expect(await heldBy(orderId)).toEqual([]);
      expect(await stockOf(plenty)).toEqual({ onHand: 10, reserved: 0 });
      expect(await outboxEventsOf(orderId)).toEqual(rejected(orderId, reason(scarce)));
    });

    it('rejects an unknown product, and one whose product.deleted inventory applied before its product.created', async () => {
      const plenty = await seedProduct({ onHand: 10 });
      const unknown = randomUUID();
      const unknownOrder = randomUUID();
      await reserve(unknownOrder, [
        { productId: plenty, quantity: 1 },
        { productId: unknown, quantity: 1 },
      ]);
      expect(await outboxEventsOf(unknownOrder)).toEqual(
        rejected(unknownOrder, `product ${unknown} is unknown`),
      );

      // Inventory's own flag is all it goes by (it never reads the catalog): the delete, applied
      // first, leaves the product unorderable, and the late create gives it stock but not back.
      const deletedFirst = randomUUID();
      const product = {
        productId: deletedFirst,
        sku: `SKU-${deletedFirst.slice(0, 8)}`,
        price: 100,
        currency: 'USD',
      };
      await db().begin((tx) => steps.onProductDeleted(tx, { ...product, version: 2 }));
      await db().begin((tx) =>
        steps.onProductCreated(tx, { ...product, name: 'Late', version: 1, initialStock: 10 }),
      );
      const deletedOrder = randomUUID();
      await reserve(deletedOrder, [{ productId: deletedFirst, quantity: 1 }]);
      expect(await outboxEventsOf(deletedOrder)).toEqual(
        rejected(deletedOrder, `product ${deletedFirst} can no longer be ordered`),
      );
      expect(await stockOf(plenty)).toEqual({ onHand: 10, reserved: 0 });
      expect(await stockOf(deletedFirst)).toEqual({ onHand: 0, reserved: 0 });
    });

    it('merges repeated lines of one product before checking the stock', async () => {
      const product = await seedProduct({ onHand: 3 });
      const tooMany = randomUUID();
      await reserve(tooMany, [
        { productId: product, quantity: 2 },
        { productId: product, quantity: 2 },
      ]);
      expect(await outboxEventsOf(tooMany)).toEqual(
        rejected(tooMany, `product ${product}: 4 requested, 3 available`),
      );
      const fits = randomUUID();
      await reserve(fits, [
        { productId: product, quantity: 1 },
        { productId: product, quantity: 2 },
      ]);
      expect(await heldBy(fits)).toEqual([{ productId: product, quantity: 3 }]);
      expect(await stockOf(product)).toEqual({ onHand: 3, reserved: 3 });
      await settle(fits, 'OrderCancelled');
    });
  });

  describe('idempotency', () => {
    const orderPlaced = (
      eventId: string,
      data: { orderId: string; items: Items },
      offset: number,
    ): MSKEvent => {
      const value = { eventId, type: OrderPlaced.type, occurredAt: new Date().toISOString(), data };
      const record = {
        topic: TOPICS.orderPlaced,
        partition: 0,
        offset,
        timestamp: Date.now(),
        timestampType: 'CREATE_TIME',
        key: Buffer.from(data.orderId).toString('base64'),
        value: Buffer.from(JSON.stringify(value)).toString('base64'),
        headers: [],
      };
      return {
        eventSource: 'aws:kafka',
        eventSourceArn: 'arn',
        bootstrapServers: 'b',
        records: { [`${TOPICS.orderPlaced}-0`]: [record] },
      } as unknown as MSKEvent;
    };

    it('a redelivered order.placed (same event id, through the reserveStock handler) holds once and announces once', async () => {
      const product = await seedProduct({ onHand: 5 });
      const order = { orderId: randomUUID(), items: [{ productId: product, quantity: 2 }] };
      const eventId = randomUUID();
      const answers = await Promise.all(
        [1, 2, 3].map((offset) => reserveStock(orderPlaced(eventId, order, offset), {} as Context)),
      );
      expect(answers).toEqual([
        { batchItemFailures: [] },
        { batchItemFailures: [] },
        { batchItemFailures: [] },
      ]);
      expect(await stockOf(product)).toEqual({ onHand: 5, reserved: 2 });
      expect(await outboxEventsOf(order.orderId)).toHaveLength(1);
      await settle(order.orderId, 'OrderCancelled');
    });

    it('a re-published order.placed (a new event id) does not hold twice, nor announce again', async () => {
      const product = await seedProduct({ onHand: 5 });
      const orderId = randomUUID();
      await allOnFirstTry([1, 2, 3].map(() => reserve(orderId, [{ productId: product, quantity: 2 }])));
      expect(await stockOf(product)).toEqual({ onHand: 5, reserved: 2 });
      expect(await outboxEventsOf(orderId)).toEqual([
        { type: StockReserved.type, data: { orderId, items: [{ productId: product, quantity: 2 }] } },
      ]);
      await settle(orderId, 'OrderCompleted');
    });

    it('an order closed before its reservation, or rejected once, never holds later', async () => {
      const product = await seedProduct({ onHand: 5 });
      const cancelledFirst = randomUUID();
      await settle(cancelledFirst, 'OrderCancelled');
      await reserve(cancelledFirst, [{ productId: product, quantity: 1 }]);
      expect(await heldBy(cancelledFirst)).toEqual([]);
      expect(await outboxEventsOf(cancelledFirst)).toEqual([]);

      const rejected = randomUUID();
      await reserve(rejected, [{ productId: product, quantity: 6 }]);
      await testDb()`update inventory.stock set on_hand = 10 where product_id = ${product}`;
      await reserve(rejected, [{ productId: product, quantity: 6 }]);
      expect(await heldBy(rejected)).toEqual([]);
      expect((await outboxEventsOf(rejected)).map((e) => e.type)).toEqual([StockRejected.type]);
      expect(await stockOf(product)).toEqual({ onHand: 10, reserved: 0 });
    });

    it('settles once: a second commit or a late release changes nothing', async () => {
      const product = await seedProduct({ onHand: 5 });
      const orderId = randomUUID();
      await reserve(orderId, [{ productId: product, quantity: 2 }]);
      await settle(orderId, 'OrderCompleted');
      await allOnFirstTry([settle(orderId, 'OrderCompleted'), settle(orderId, 'OrderCancelled')]);
      expect(await stockOf(product)).toEqual({ onHand: 3, reserved: 0 });
      expect(await testDb()`select status from inventory.reservations where order_id = ${orderId}`).toEqual([
        { status: 'COMMITTED' },
      ]);
    });
  });
});

describe('the one-statement reservation', () => {
  it('writes the claim, the reservation and the stock.reserved row together, and a repeat of the claim writes nothing', async () => {
    const product = await seedProduct({ onHand: 5 });
    const order = { orderId: randomUUID(), items: [{ productId: product, quantity: 2 }] };
    const claim = { consumer: 'inventory.reserveStock', recordKey: randomUUID() };
    const first = await steps.reserveStockAlone(claim, order);
    expect(first).toEqual([
      expect.objectContaining({
        key: order.orderId,
        payload: expect.objectContaining({ type: StockReserved.type }),
      }),
    ]);
    expect(await claimsOf(claim)).toBe(1);
    expect(await steps.reserveStockAlone(claim, order)).toBe('duplicate');
    expect(await stockOf(product)).toEqual({ onHand: 5, reserved: 2 });
    expect(await outboxEventsOf(order.orderId)).toHaveLength(1);
    await settle(order.orderId, 'OrderCancelled');
  });

  it('a settlement alone writes its claim with it, and a repeat of the claim settles nothing', async () => {
    const product = await seedProduct({ onHand: 5 });
    const order = { orderId: randomUUID(), items: [{ productId: product, quantity: 2 }] };
    await steps.reserveStockAlone(newClaim('inventory.reserveStock'), order);
    const claim = newClaim('inventory.settleReservation');
    const completed = closing(order.orderId, 'OrderCompleted');

    expect(await steps.settleReservationAlone(claim, completed)).toEqual([]);
    expect(await stockOf(product)).toEqual({ onHand: 3, reserved: 0 });
    expect(await claimsOf(claim)).toBe(1);

    expect(await steps.settleReservationAlone(claim, completed)).toBe('duplicate');
    // A new record of the same closing event (a re-published one) finds nothing HELD.
    expect(await steps.settleReservationAlone({ ...claim, recordKey: randomUUID() }, completed)).toEqual([]);
    expect(await stockOf(product)).toEqual({ onHand: 3, reserved: 0 });
    expect(await heldBy(order.orderId)).toEqual([]);
  });

  it('declines a refusal and writes nothing: no claim, no closed order, no event', async () => {
    const product = await seedProduct({ onHand: 1 });
    const order = { orderId: randomUUID(), items: [{ productId: product, quantity: 2 }] };
    const claim = { consumer: 'inventory.reserveStock', recordKey: randomUUID() };
    expect(await steps.reserveStockAlone(claim, order)).toBe('declined');
    expect(await claimsOf(claim)).toBe(0);
    expect(
      await testDb()`select 1 from inventory.closed_orders where order_id = ${order.orderId}`,
    ).toHaveLength(0);
    expect(await outboxEventsOf(order.orderId)).toEqual([]);
    expect(await stockOf(product)).toEqual({ onHand: 1, reserved: 0 });
  });
});
