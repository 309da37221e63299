/**
 * The bounded runtime (infra/offline-concurrency.cjs) over stand-ins shaped like serverless-offline
 * 13's LambdaFunctionPool and LambdaFunction (private state, a factory `get` that reuses any IDLE
 * instance, `status` BUSY only while running): every invocation runs exactly once with its own
 * event, never more instances than the cap, overflow waits, HTTP overflow is shed with 503.
 */
import { FakeLambdaFunction, FakeLambdaFunctionPool, patchPool, setRunTime } from './pool-stand-ins.ts';

setRunTime(() => 5 + Math.random() * 10);

patchPool(
  FakeLambdaFunctionPool,
  FakeLambdaFunction,
  {
    defaultReservedConcurrency: 3,
    maxInstances: 8,
    maxQueueWaitMs: 10_000,
    maxQueuedPerInstance: 100,
    idleSeconds: 600,
  },
  () => {},
);
const pool = new FakeLambdaFunctionPool() as unknown as {
  get(
    key: string,
    definition: object,
  ): { setEvent(e: unknown): void; runHandler(): Promise<{ echoed: unknown }> };
};

beforeEach(() => {
  FakeLambdaFunction.runs = [];
  FakeLambdaFunction.peak = 0;
});

it('runs every one of 200 simultaneous invocations exactly once, with its own event, on at most reservedConcurrency instances', async () => {
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) => {
      const lease = pool.get('consumer', {});
      lease.setEvent({ records: i });
      return lease.runHandler();
    }),
  );
  expect(results.map((r) => (r.echoed as { records: number }).records)).toEqual(
    Array.from({ length: 200 }, (_, i) => i),
  );
  const ran = FakeLambdaFunction.runs
    .map((run) => (run.event as { records: number }).records)
    .sort((a, b) => a - b);
  expect(ran).toEqual(Array.from({ length: 200 }, (_, i) => i));
  expect(new Set(FakeLambdaFunction.runs.map((run) => run.instance)).size).toBeLessThanOrEqual(3);
  expect(FakeLambdaFunction.peak).toBeLessThanOrEqual(3);
});

it('honours reservedConcurrency and sheds HTTP invocations that would queue past the limit with a 503 problem', async () => {
  const http = (i: number) => ({ httpMethod: 'POST', requestContext: {}, body: String(i) });
  const answers = await Promise.all(
    Array.from({ length: 300 }, (_, i) => {
      const lease = pool.get('placeOrder', { reservedConcurrency: 2 });
      lease.setEvent(http(i));
      return lease.runHandler() as Promise<{
        echoed?: unknown;
        statusCode?: number;
        headers?: Record<string, string>;
      }>;
    }),
  );
  const shed = answers.filter((a) => a.statusCode === 503);
  expect(shed.length).toBe(300 - 2 - 200); // two running, a queue of 100 per instance
  for (const answer of shed)
    expect(answer.headers).toMatchObject({ 'content-type': 'application/problem+json', 'retry-after': '1' });
  const served = answers.filter((a) => a.echoed).length;
  expect(served).toBe(FakeLambdaFunction.runs.length);
  expect(FakeLambdaFunction.peak).toBeLessThanOrEqual(2);
});
