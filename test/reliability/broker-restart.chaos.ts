/**
 * Fault (chaos only: `npm run chaos`, which runs the stack on a broker of its own and exposes
 * CHAOS_CONTROL_URL to restart it): the Kafka broker restarts with 200 orders in flight
 * (broker-restart-scenario.ts; `npm test` runs a smaller one in restarts.test.ts).
 */
import { requireEnv } from '../support/api.ts';
import { closeTestDb } from '../support/fixtures.ts';
import { brokerRestartUnderLoad } from './broker-restart-scenario.ts';

afterAll(closeTestDb);

const ORDERS = Number(process.env.CHAOS_ORDERS ?? 200);

async function restartBroker(downMs: number): Promise<void> {
  const response = await fetch(`${requireEnv('CHAOS_CONTROL_URL')}/broker/restart?downMs=${downMs}`, {
    method: 'POST',
  });
  if (response.status !== 200) throw new Error(`broker restart failed: ${await response.text()}`);
}

it(`a broker restart with ${ORDERS} orders in flight: all terminal, no Lambda timeout, no dead letter, invariants hold, none charged twice`, async () => {
  await brokerRestartUnderLoad(ORDERS, restartBroker);
}, 900_000);
