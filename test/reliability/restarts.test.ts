/**
 * Faults: the servers themselves go away, on a stack of the test's own (own embedded PostgreSQL,
 * own Kafka broker, own topic prefix; own-stack.ts). PostgreSQL is stopped for two minutes in the
 * middle of a saga run, then restarted twice in quick succession; the broker restarts under load
 * (broker-restart-scenario.ts). While it is down, HTTP answers 503 and every Kafka
 * record that meets the outage fails as retryable: its partition waits and the trigger retries
 * it with capped backoff while it is young enough (MaximumRecordAgeInSeconds). Once the server
 * is back, every order ends terminal exactly once, nothing was dead-lettered, invariants hold.
 *
 * `POSTGRES_OUTAGE_SECONDS` (120; `npm run chaos` uses 300) sets the outage.
 */
import { randomUUID } from 'node:crypto';
import { log } from '../../infra/local/process.ts';
import { api, eventually } from '../support/api.ts';
import { closeTestDb, seedProduct, testDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { TERMINAL } from '../saga/saga-helpers.ts';
import { brokerRestartUnderLoad } from './broker-restart-scenario.ts';
import { startOwnStack, type OwnStack } from './own-stack.ts';
import {
  allTerminal,
  deadLetters,
  expectChargedOnce,
  expectNoDoubledTransitions,
  health,
  placeOrders,
  scaled,
  sleep,
} from './support.ts';

const OUTAGE_SECONDS = Number(process.env.POSTGRES_OUTAGE_SECONDS ?? 120);
// Cards that keep orders in the saga for a while: approved, approved on the third attempt, and a
// charge call that times out and is found approved by an inquiry.
const CARDS = ['4242424242424242', '4000000000000036', '4242424242424242', '4000000000000408'];

let stack: OwnStack;

beforeAll(async () => {
  stack = await startOwnStack('restarts');
}, 600_000);

afterAll(async () => {
  await closeTestDb();
  await stack?.stop();
}, 60_000);

async function placeSagaRun(count: number): Promise<{ ids: string[]; customerId: string }> {
  const products = await Promise.all([
    seedProduct({ onHand: count }),
    seedProduct({ onHand: Math.ceil(count / 3) }),
  ]);
  const customerId = randomUUID();
  const ids = await placeOrders(
    count,
    (i) => ({
      customerId,
      items: [{ productId: products[i % 2]!, quantity: 1 }],
      cardNumber: CARDS[i % CARDS.length],
    }),
    { limit: 4 },
  );
  return { ids, customerId };
}

async function notTerminal(ids: string[]): Promise<number> {
  const sql = testDb();
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from orders.orders where id in ${sql(ids)} and status not in ${sql(TERMINAL)}`;
  return row!.n;
}

/** Every order terminal once, one order per request, no double charge, nothing dead-lettered, invariants. */
async function expectHealed(ids: string[], customerId: string): Promise<Record<string, number>> {
  const byStatus = await allTerminal(ids, 300_000);
  const [row] = await testDb()<
    { n: number }[]
  >`select count(*)::int as n from orders.orders where customer_id = ${customerId}`;
  expect(row!.n).toBe(ids.length);
  await expectChargedOnce(ids);
  await expectNoDoubledTransitions(ids);
  expect(await deadLetters()).toEqual([]);
  await expectInvariants();
  return byStatus;
}

it(`PostgreSQL stopped for ${OUTAGE_SECONDS} s in the middle of a saga run: every order terminal, no dead letter`, async () => {
  const { ids, customerId } = await placeSagaRun(scaled(20));
  const inFlight = await notTerminal(ids);
  await closeTestDb(); // the test's own pool stays out of the outage

  await stack.stopPostgres();
  const stoppedAt = Date.now();
  log(`restarts: PostgreSQL stopped with ${inFlight} of ${ids.length} orders in the saga`);
  const healthDuring = await health();
  const placeDuring = await api('POST', '/orders', {
    body: {
      customerId,
      items: [{ productId: randomUUID(), quantity: 1 }],
      payment: { cardNumber: CARDS[0] },
    },
  });
  await sleep(OUTAGE_SECONDS * 1000 - (Date.now() - stoppedAt));
  await stack.startPostgres();
  const startedAt = Date.now();
  const outage = (startedAt - stoppedAt) / 1000;

  const byStatus = await expectHealed(ids, customerId);
  const recovery = (Date.now() - startedAt) / 1000;
  log(
    `restarts: outage ${outage.toFixed(0)} s with ${inFlight} orders in flight; all ${ids.length} terminal ${recovery.toFixed(0)} s after the restart (${JSON.stringify(byStatus)}); 0 dead letters`,
  );
  expect(inFlight).toBeGreaterThan(0); // the outage did come mid-saga
  expect(healthDuring).toBe(503);
  expect(placeDuring.status).toBe(503);
  expect(placeDuring.headers.get('retry-after')).toBeTruthy();
}, 900_000);

it('PostgreSQL restarted twice in quick succession mid-saga: every order terminal, no dead letter', async () => {
  const { ids, customerId } = await placeSagaRun(scaled(20));
  const inFlight = await notTerminal(ids);
  await closeTestDb();
  const started = Date.now();
  for (let round = 0; round < 2; round++) {
    await stack.stopPostgres();
    await sleep(1000); // the outage
    await stack.startPostgres();
    // The next restart meets a stack that reaches its database again, not one still reconnecting.
    await eventually(async () => (await health()) === 200, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'GET /health answering 200 after the restart',
    });
  }
  const byStatus = await expectHealed(ids, customerId);
  log(
    `restarts: two restarts with ${inFlight} orders in flight; all ${ids.length} terminal ${((Date.now() - started) / 1000).toFixed(0)} s after the first (${JSON.stringify(byStatus)}); 0 dead letters`,
  );
  expect(inFlight).toBeGreaterThan(0);
}, 600_000);

it('the Kafka broker restarted under load: every order terminal, no Lambda timeout, no dead letter', async () => {
  await brokerRestartUnderLoad(scaled(40), (downMs) => stack.restartBroker(downMs));
}, 900_000);
