/**
 * Fault (chaos only: `npm run chaos`, which runs the stack on a broker of its own and exposes
 * CHAOS_CONTROL_URL to restart it): the Kafka broker restarts while orders are in flight. The
 * outbox keeps every event until it is published, the triggers reconnect and resume from their
 * commits, consumers skip what they see twice: every order reaches a terminal state, invariants
 * hold, no order is charged twice.
 */
import { randomUUID } from 'node:crypto';
import { requireEnv } from '../support/api.ts';
import { closeTestDb, createProduct, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { allTerminal, expectChargedOnce, expectNoDoubledTransitions, placeOrders, sleep } from './support.ts';

afterAll(closeTestDb);

const ORDERS = Number(process.env.CHAOS_ORDERS ?? 200);
const CARDS = [
  '4242424242424242',
  '4242424242424242',
  '4242424242424242',
  '4000000000000002',
  '4000000000009995',
  '4000000000000036',
  '4000000000000408',
];

async function restartBroker(downMs: number): Promise<void> {
  const response = await fetch(`${requireEnv('CHAOS_CONTROL_URL')}/broker/restart?downMs=${downMs}`, {
    method: 'POST',
  });
  if (response.status !== 200) throw new Error(`broker restart failed: ${await response.text()}`);
}

it(`a broker restart with ${ORDERS} orders in flight: all terminal, invariants hold, none charged twice`, async () => {
  const products = await Promise.all([
    createProduct({ onHand: ORDERS }),
    createProduct({ onHand: Math.ceil(ORDERS / 5) }),
    createProduct({ onHand: ORDERS }),
  ]);
  const customerId = randomUUID();
  let placed = 0;
  const placing = placeOrders(
    ORDERS,
    (i) => ({
      customerId,
      items: [
        { productId: products[i % 3]!, quantity: 1 },
        ...(i % 4 === 0 ? [{ productId: products[(i + 1) % 3]!, quantity: 1 }] : []),
      ],
      cardNumber: CARDS[i % CARDS.length],
    }),
    { limit: 8, onAnswer: (status) => status === 202 && (placed += 1) },
  );
  // Restart once a quarter of the orders are in: the rest are placed while the broker is away.
  while (placed < ORDERS / 4) await sleep(100);
  await restartBroker(5000);
  const ids = await placing;
  const byStatus = await allTerminal(ids, 600_000);
  console.log(`broker restart: ${JSON.stringify(byStatus)}`);
  const [row] =
    await testDb()`select count(*)::int as n from orders.orders where customer_id = ${customerId}`;
  expect(row!.n).toBe(ORDERS);
  await expectChargedOnce(ids);
  await expectNoDoubledTransitions(ids);
  await expectInvariants();
}, 900_000);
