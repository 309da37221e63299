/**
 * The payment service's Lambda Invoke API, called the way the order saga calls it: charges are
 * idempotent per orderId:attempt, an order is never approved twice, and a slow charge that
 * outlives its caller is found approved by the inquiry.
 */
import { randomUUID } from 'node:crypto';
import { paymentIdFor } from '#layers/schemas/payment';
import { api, eventually } from '../support/api.ts';
import { closeTestDb } from '../support/fixtures.ts';
import { expectInvariants } from '../support/invariants.ts';
import { invoke } from './saga-helpers.ts';

afterEach(expectInvariants);
afterAll(closeTestDb);

const charge = (orderId: string, attempt: number, cardNumber: string) =>
  invoke('chargePayment', { orderId, attempt, amount: 1000, currency: 'USD', cardNumber });

it('a repeated charge of one attempt answers from the ledger; a later attempt never approves the order twice', async () => {
  const orderId = randomUUID();
  const first = await charge(orderId, 1, '4242424242424242');
  expect(first).toEqual({ paymentId: paymentIdFor(orderId, 1), status: 'APPROVED', retryable: false });
  expect(await charge(orderId, 1, '4242424242424242')).toEqual(first);
  expect(await charge(orderId, 2, '4242424242424242')).toEqual(first);
  const { body } = await api('GET', `/orders/${orderId}/payments`);
  expect(body.items).toMatchObject([
    { id: first.paymentId, attempt: 1, status: 'APPROVED', amount: 1000, cardLast4: '4242' },
  ]);
  expect(JSON.stringify(body)).not.toContain('4242424242424242');
});

it('a slow charge outlives a 1 s caller, then the inquiry finds it approved', async () => {
  const orderId = randomUUID();
  const paymentId = paymentIdFor(orderId, 1);
  const call = invoke(
    'chargePayment',
    { orderId, attempt: 1, amount: 500, currency: 'USD', cardNumber: '4000000000000408' },
    1000,
  );
  // The caller gave up (its 1 s timeout aborted the Invoke), not the function failing.
  const gaveUp: unknown = await call.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(gaveUp).toMatchObject({ name: 'AbortError', message: 'Request aborted' });
  expect(await invoke('inquirePayment', { paymentId })).toEqual({
    found: true,
    result: { paymentId, status: 'PENDING', retryable: false },
  });
  await eventually(async () => (await invoke('inquirePayment', { paymentId })).result.status === 'APPROVED', {
    timeoutMs: 10_000,
    what: 'slow charge approved',
  });
  expect((await api('GET', `/payments/${paymentId}`)).body).toMatchObject({
    id: paymentId,
    orderId,
    attempt: 1,
    status: 'APPROVED',
    settledAt: expect.any(String),
  });
  expect(await invoke('inquirePayment', { paymentId: paymentIdFor(orderId, 2) })).toEqual({ found: false });
});

it('rejects a malformed charge request without recording anything', async () => {
  const orderId = randomUUID();
  await expect(charge(orderId, 1, '4242')).rejects.toThrow(/chargePayment/);
  expect((await api('GET', `/orders/${orderId}/payments`)).body.items).toEqual([]);
});
