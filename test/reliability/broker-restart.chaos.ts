/**
 * Fault (chaos only: `npm run chaos`, which runs the stack on a broker of its own and exposes
 * CHAOS_CONTROL_URL to restart it): the Kafka broker restarts while orders are in flight. The
 * outbox keeps every event until it is published, the triggers reconnect and resume from their
 * commits, consumers skip what they see twice: every order reaches a terminal state, invariants
 * hold, no order is charged twice, nothing is dead-lettered. No handler waits for the broker
 * past a bounded send (layers/kafka/producer.ts), so no invocation runs into its Lambda timeout
 * while the broker is away or reconnecting.
 */
import { readFileSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { requireEnv } from '../support/api.ts';
import { closeTestDb, createProduct, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import {
  allTerminal,
  deadLetters,
  expectChargedOnce,
  expectNoDoubledTransitions,
  placeOrders,
  sleep,
} from './support.ts';

/** serverless-offline's output since `from` (a byte offset of OFFLINE_LOG). */
const offlineOutputSince = (from: number) =>
  readFileSync(requireEnv('OFFLINE_LOG')).subarray(from).toString('utf8');

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
  const logFrom = statSync(requireEnv('OFFLINE_LOG')).size;
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
  const backAt = Date.now();
  const ids = await placing;
  const byStatus = await allTerminal(ids, 600_000);
  const output = offlineOutputSince(logFrom);
  const timeouts = output.split('\n').filter((line) => line.includes('Lambda timeout'));
  const dead = await deadLetters(ids);
  console.log(
    `broker restart: ${JSON.stringify(byStatus)}; all terminal ${((Date.now() - backAt) / 1000).toFixed(0)} s after the broker was back; ${timeouts.length} Lambda timeouts; ${dead.length} dead letters`,
  );
  expect(timeouts).toEqual([]);
  expect(dead).toEqual([]);
  const [row] =
    await testDb()`select count(*)::int as n from orders.orders where customer_id = ${customerId}`;
  expect(row!.n).toBe(ORDERS);
  await expectChargedOnce(ids);
  await expectNoDoubledTransitions(ids);
  await expectInvariants();
}, 900_000);
