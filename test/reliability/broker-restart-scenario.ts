/**
 * The broker-restart scenario shared by `npm test` (restarts.test.ts, on a stack of its own) and
 * `npm run chaos` (broker-restart.chaos.ts, 200 orders): orders are placed with mixed test cards,
 * the Kafka broker restarts once a quarter of them are in, the rest are placed while it is away.
 * The outbox keeps every event until it is published, the triggers reconnect and resume from
 * their commits, consumers skip what they see twice. Then every order is terminal, one order per
 * request, none charged twice, nothing dead-lettered, invariants hold — and no handler waited for
 * the broker past a bounded send (layers/kafka/producer.ts): no invocation ran into its Lambda
 * timeout while the broker was away or reconnecting.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { requireEnv } from '../support/api.ts';
import { seedProduct, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import {
  allTerminal,
  deadLetters,
  expectChargedOnce,
  expectNoDoubledTransitions,
  placeOrders,
  sleep,
} from './support.ts';

const CARDS = [
  '4242424242424242',
  '4242424242424242',
  '4242424242424242',
  '4000000000000002',
  '4000000000009995',
  '4000000000000036',
  '4000000000000408',
];

/** serverless-offline's output since `from` (a byte offset of OFFLINE_LOG). */
const offlineOutputSince = (from: number) =>
  readFileSync(requireEnv('OFFLINE_LOG')).subarray(from).toString('utf8');

export async function brokerRestartUnderLoad(
  count: number,
  restartBroker: (downMs: number) => Promise<void>,
  downMs = 5000,
): Promise<void> {
  const products = await Promise.all([
    seedProduct({ onHand: count }),
    seedProduct({ onHand: Math.ceil(count / 5) }),
    seedProduct({ onHand: count }),
  ]);
  const customerId = randomUUID();
  const logFrom = statSync(requireEnv('OFFLINE_LOG')).size;
  let placed = 0;
  const placing = placeOrders(
    count,
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
  while (placed < count / 4) await sleep(100);
  await restartBroker(downMs);
  const backAt = Date.now();
  const ids = await placing;
  const byStatus = await allTerminal(ids, 600_000);
  const recovery = (Date.now() - backAt) / 1000;
  const timeouts = offlineOutputSince(logFrom)
    .split('\n')
    .filter((line) => line.includes('Lambda timeout'));
  const dead = await deadLetters(ids);
  console.log(
    `broker restart (${count} orders, down ${downMs / 1000} s): ${JSON.stringify(byStatus)}; all terminal ${recovery.toFixed(0)} s after the broker was back; ${timeouts.length} Lambda timeouts; ${dead.length} dead letters`,
  );
  const [row] =
    await testDb()`select count(*)::int as n from orders.orders where customer_id = ${customerId}`;
  expect(row!.n).toBe(count);
  await expectChargedOnce(ids);
  await expectNoDoubledTransitions(ids);
  expect(timeouts).toEqual([]);
  expect(dead).toEqual([]);
  await expectInvariants();
}
