/**
 * A burst far beyond what two cores serve at once: 1,000 orders at the same instant on a product
 * with stock 100. The system may shed load, but only truthfully: every answer is a 202 or a 503
 * problem with Retry-After; every order that exists was answered 202 and none answered 503 exists;
 * the accepted orders settle exactly (no oversell) and the database connections stay bounded.
 */
import { randomUUID } from 'node:crypto';
import { api } from '../support/api.ts';
import { closeTestDb, seedProduct, stockSettlesAt, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { TERMINAL } from './saga-helpers.ts';

afterAll(closeTestDb);

const BURST = 1000;
const STOCK = 100;
/** DESIGN.md: the local stack stays within 40 PostgreSQL connections under any burst. */
const CONNECTION_BUDGET = 40;

it(`${BURST} simultaneous orders on stock ${STOCK}: only 202 or 503 + Retry-After, each answer true, bounded connections`, async () => {
  const product = await seedProduct({ onHand: STOCK });
  const customerId = randomUUID();
  const database = new URL(process.env.DATABASE_URL!).pathname.slice(1);
  let peakConnections = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const [row] = await testDb()<
        { n: number }[]
      >`select count(*)::int as n from pg_stat_activity where datname = ${database}`;
      peakConnections = Math.max(peakConnections, row!.n);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();

  const answers = await Promise.all(
    Array.from({ length: BURST }, async () => {
      const key: string = randomUUID();
      const response = await api('POST', '/orders', {
        headers: { 'idempotency-key': key },
        body: {
          customerId,
          items: [{ productId: product, quantity: 1 }],
          payment: { cardNumber: '4242424242424242' },
        },
      });
      return {
        key,
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        type: response.headers.get('content-type'),
      };
    }),
  );

  const unexpected = answers.filter(
    (a) => a.status !== 202 && !(a.status === 503 && a.retryAfter && a.type === 'application/problem+json'),
  );
  expect(unexpected).toEqual([]);
  const accepted = new Set(answers.filter((a) => a.status === 202).map((a) => a.key));
  const shed = new Set(answers.filter((a) => a.status === 503).map((a) => a.key));

  const finals = await customerOrdersSettledAll(customerId, accepted.size);
  sampling = false;
  await sampler;

  const written = await testDb()<
    { idempotencyKey: string }[]
  >`select idempotency_key from orders.orders where customer_id = ${customerId}`;
  const writtenKeys = new Set(written.map((row) => row.idempotencyKey));
  expect([...writtenKeys].filter((key) => !accepted.has(key))).toEqual([]);
  expect([...accepted].filter((key) => !writtenKeys.has(key))).toEqual([]);
  expect([...shed].filter((key) => writtenKeys.has(key))).toEqual([]);

  const completed = finals.filter((order) => order.status === 'COMPLETED').length;
  expect(completed).toBe(Math.min(STOCK, accepted.size));
  expect(finals.filter((order) => !['COMPLETED', 'REJECTED'].includes(order.status))).toEqual([]);
  await stockSettlesAt(product, { onHand: STOCK - completed, reserved: 0 });
  await expectInvariants();
  expect(peakConnections).toBeLessThanOrEqual(CONNECTION_BUDGET);
}, 300_000);

/** Waits until all `count` orders of the customer are terminal, across as many pages as they take. */
async function customerOrdersSettledAll(customerId: string, count: number) {
  const deadline = Date.now() + 240_000;
  for (;;) {
    const orders: { id: string; status: string }[] = [];
    let cursor: string | undefined;
    do {
      const page = await api(
        'GET',
        `/orders?customerId=${customerId}&limit=100${cursor ? `&cursor=${cursor}` : ''}`,
      );
      orders.push(...page.body.items);
      cursor = page.body.nextCursor ?? undefined;
    } while (cursor);
    if (orders.length === count && orders.every((order) => TERMINAL.includes(order.status))) return orders;
    if (Date.now() > deadline)
      throw new Error(`${count} orders of ${customerId} not terminal in time (${orders.length} seen)`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
