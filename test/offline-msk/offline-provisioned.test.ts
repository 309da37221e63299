/**
 * Provisioned concurrency in the bounded runtime (infra/offline-concurrency.cjs), over stand-ins
 * shaped like serverless-offline 13's LambdaFunctionPool and LambdaFunction: the pool's start
 * initialises each function's provisionedConcurrency instances with the init event only (no
 * handler invocation), invocations then run on those instances without starting new ones, and
 * they stay when the account-wide limit makes the pool retire an idle instance for another function.
 */
import { FakeLambdaFunction, FakeLambdaFunctionPool, patchPool, offlineRuntime } from './pool-stand-ins.ts';

const INIT = { init: 'token' };

patchPool(
  FakeLambdaFunctionPool,
  FakeLambdaFunction,
  {
    defaultReservedConcurrency: 2,
    maxInstances: 5,
    maxQueueWaitMs: 10_000,
    maxQueuedPerInstance: 100,
    idleSeconds: 600,
  },
  () => {},
  {
    initEvent: INIT,
    provisioned: () => [
      { key: 'reserveStock', definition: { provisionedConcurrency: 2 } },
      // More than its cap of 2: provisioned up to the cap, as Lambda requires.
      { key: 'placeOrder', definition: { provisionedConcurrency: 5, reservedConcurrency: 2 } },
    ],
  },
);
const pool = new FakeLambdaFunctionPool() as unknown as {
  start(): void;
  get(
    key: string,
    definition: object,
  ): { setEvent(e: unknown): void; runHandler(): Promise<{ echoed: unknown }> };
};
const invoke = (key: string, event: unknown, definition: object = {}) => {
  const lease = pool.get(key, definition);
  lease.setEvent(event);
  return lease.runHandler();
};

it('initialises the provisioned instances at start with the init event only, and runs invocations on them', async () => {
  pool.start();
  await offlineRuntime()!.provisioned;
  const byKey = (key: string) => FakeLambdaFunction.created.filter((f) => f.key === key);
  expect(byKey('reserveStock')).toHaveLength(2);
  expect(byKey('placeOrder')).toHaveLength(2);
  for (const instance of FakeLambdaFunction.created) expect(instance.events).toEqual([INIT]);

  const answers = await Promise.all(
    Array.from({ length: 10 }, (_, i) => invoke('reserveStock', { records: i })),
  );
  expect(answers.map((a) => a.echoed)).toEqual(Array.from({ length: 10 }, (_, i) => ({ records: i })));
  expect(byKey('reserveStock')).toHaveLength(2);
  expect(byKey('reserveStock').flatMap((f) => f.events.slice(1))).toHaveLength(10);
});

it('retires an idle on-demand instance, never a provisioned one, when another function needs a slot of the account-wide limit', async () => {
  // 4 of the 5 slots hold provisioned instances; getStock takes the fifth and goes idle.
  await invoke('getStock', { path: '/stock' });
  const [getStock] = FakeLambdaFunction.created.filter((f) => f.key === 'getStock');
  expect(FakeLambdaFunction.ended).toEqual([]);
  // listOrders needs a slot: the least recently used idle instance of another function goes,
  // and that is getStock's, although every provisioned instance has been idle for longer.
  const answer = await invoke('listOrders', { path: '/orders' });
  expect(answer.echoed).toEqual({ path: '/orders' });
  expect(FakeLambdaFunction.ended).toEqual([getStock]);
  const answers = await Promise.all([
    invoke('placeOrder', { body: 1 }),
    invoke('reserveStock', { records: 99 }),
  ]);
  expect(answers.map((a) => a.echoed)).toEqual([{ body: 1 }, { records: 99 }]);
  expect(
    FakeLambdaFunction.created.filter((f) => f.key === 'placeOrder' || f.key === 'reserveStock'),
  ).toHaveLength(4);
});
