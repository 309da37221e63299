/**
 * Every test card through the real stack (HTTP → Kafka → functions → Postgres) to its terminal
 * status, with the right number of payment attempts and the stock settled.
 */
import { api } from '../support/api.ts';
import { closeTestDb, seedProduct, stockSettlesAt } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { payments, place, settled, timeline } from './saga-helpers.ts';

afterEach(expectInvariants);
afterAll(closeTestDb);

describe('payment test cards', () => {
  it('4242424242424242: COMPLETED after one approved attempt; the stock leaves the shelf', async () => {
    const product = await seedProduct({ price: 1250, onHand: 10 });
    const placed = await place([{ productId: product, quantity: 2 }]);
    expect(placed).toMatchObject({
      status: 'PENDING',
      total: 2500,
      items: [{ productId: product, quantity: 2, unitPrice: 1250 }],
    });

    const order = await settled(placed.id);
    expect(order).toMatchObject({ status: 'COMPLETED', paymentAttempts: 1, total: 2500, currency: 'USD' });
    await stockSettlesAt(product, { onHand: 8, reserved: 0 });
    const attempts = await payments(placed.id);
    expect(attempts).toMatchObject([{ attempt: 1, status: 'APPROVED', amount: 2500, cardLast4: '4242' }]);
    expect((await timeline(placed.id)).map((entry) => entry.status)).toEqual([
      'PENDING',
      'RESERVED',
      'COMPLETED',
    ]);
    const inquiry = await api('GET', `/payments/${attempts[0]!.id}`);
    expect(inquiry.status).toBe(200);
    expect(inquiry.text).not.toContain('4242424242424242');
  });

  it('4000000000000002: FAILED at once (declined, no retry); the stock is released', async () => {
    const product = await seedProduct({ onHand: 5 });
    const order = await settled((await place([{ productId: product, quantity: 3 }], '4000000000000002')).id);
    expect(order).toMatchObject({
      status: 'FAILED',
      paymentAttempts: 1,
      failureReason: expect.stringContaining('card_declined'),
    });
    expect(await payments(order.id)).toMatchObject([{ status: 'DECLINED', failureCode: 'card_declined' }]);
    await stockSettlesAt(product, { onHand: 5, reserved: 0 });
  });

  it.each([
    ['4000000000009995', 'insufficient_funds'],
    ['4000000000000119', 'processing_error'],
  ])(
    '%s: transient, retried 5 times after the first attempt, then FAILED with the reason; stock released',
    async (card, code) => {
      const product = await seedProduct({ onHand: 5 });
      const order = await settled((await place([{ productId: product, quantity: 1 }], card)).id, 45_000);
      expect(order).toMatchObject({
        status: 'FAILED',
        paymentAttempts: 6,
        failureReason: `payment failed after 6 attempts (last: ${code})`,
      });
      const attempts = await payments(order.id);
      expect(attempts.map((p) => [p.attempt, p.status, p.failureCode])).toEqual(
        [1, 2, 3, 4, 5, 6].map((n) => [n, 'FAILED', code]),
      );
      await stockSettlesAt(product, { onHand: 5, reserved: 0 });
      const entries = await timeline(order.id);
      expect(entries.filter((entry) => /attempt \d scheduled at/.test(entry.detail))).toHaveLength(5);
      expect(entries.at(-1)).toMatchObject({ status: 'FAILED' });
    },
  );

  it('4000000000000036: insufficient funds twice, approved on the third attempt', async () => {
    const product = await seedProduct({ onHand: 5 });
    const order = await settled((await place([{ productId: product, quantity: 1 }], '4000000000000036')).id);
    expect(order).toMatchObject({ status: 'COMPLETED', paymentAttempts: 3 });
    expect((await payments(order.id)).map((p) => p.status)).toEqual(['FAILED', 'FAILED', 'APPROVED']);
    await stockSettlesAt(product, { onHand: 4, reserved: 0 });
  });

  it('4000000000000408: the charge call times out, the inquiry finds it approved: COMPLETED with exactly one payment', async () => {
    const product = await seedProduct({ onHand: 5 });
    const order = await settled((await place([{ productId: product, quantity: 1 }], '4000000000000408')).id);
    expect(order).toMatchObject({ status: 'COMPLETED', paymentAttempts: 1 });
    expect(await payments(order.id)).toMatchObject([
      { attempt: 1, status: 'APPROVED', settledAt: expect.any(String) },
    ]);
    expect((await timeline(order.id)).some((entry) => entry.detail.includes('timed out'))).toBe(true);
    await stockSettlesAt(product, { onHand: 4, reserved: 0 });
  });
});

describe('stock rejections', () => {
  it('rejects an order for more than is available, holding nothing', async () => {
    const plenty = await seedProduct({ onHand: 10 });
    const scarce = await seedProduct({ onHand: 2 });
    const order = await settled(
      (
        await place([
          { productId: plenty, quantity: 1 },
          { productId: scarce, quantity: 3 },
        ])
      ).id,
    );
    expect(order).toMatchObject({
      status: 'REJECTED',
      paymentAttempts: 0,
      failureReason: expect.stringContaining('3 requested, 2 available'),
    });
    await stockSettlesAt(plenty, { onHand: 10, reserved: 0 });
    await stockSettlesAt(scarce, { onHand: 2, reserved: 0 });
    expect(await payments(order.id)).toEqual([]);
  });

  it('rejects unknown and deleted products', async () => {
    const deleted = await seedProduct({ deleted: true });
    const unknown = '00000000-0000-4000-8000-000000000001';
    expect(await settled((await place([{ productId: deleted, quantity: 1 }])).id)).toMatchObject({
      status: 'REJECTED',
      failureReason: expect.stringContaining('no longer'),
    });
    expect(await settled((await place([{ productId: unknown, quantity: 1 }])).id)).toMatchObject({
      status: 'REJECTED',
      failureReason: expect.stringContaining('unknown'),
    });
  });
});
