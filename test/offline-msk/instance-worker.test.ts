/**
 * The worker thread of a function instance (infra/offline-instance-worker.mjs), driven as
 * serverless-offline 13's WorkerThreadRunner drives it: one MessageChannel per invocation, its
 * second port sent along for the answer. The worker answers on that port and then closes it (left
 * open, each channel stays alive on both threads and every later message costs more:
 * `npm run bench:ports`); an init-only invocation loads the handler without running it; a
 * callback-style handler gets InProcessRunner's context (the worker replaces that runner).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { types } from 'node:util';
import { MessageChannel, Worker } from 'node:worker_threads';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const userFunction = path.join(
  path.dirname(createRequire(import.meta.url).resolve('serverless-offline')),
  'lambda/handler-runner/in-process-runner/aws-lambda-ric/UserFunction.js',
);
const INIT = { initKey: 'shopstream.test.init', initToken: 'token-of-this-test' };

/** An instance's thread for one of the fixture handlers, started as the runtime starts it. */
const startInstance = (handler: string, functionKey: string, timeout = 5000) =>
  new Worker(path.join(root, 'infra/offline-instance-worker.mjs'), {
    workerData: {
      codeDir: path.join(here, 'fixture/instance'),
      functionKey,
      handler,
      servicePath: root,
      timeout,
      userFunction,
      ...INIT,
    },
  });

let worker: Worker;
beforeAll(() => {
  worker = startInstance('echo.handler', 'echo');
});
afterAll(() => worker.terminate());

/** One invocation; resolves with its answer and whether its channel then closed. */
function invoke(event: unknown, instance = worker) {
  const { port1, port2 } = new MessageChannel();
  const answered = new Promise((resolve) => port1.once('message', resolve));
  const closed = new Promise<boolean>((resolve) => {
    port1.once('close', () => resolve(true));
    setTimeout(() => resolve(false), 5000).unref();
  });
  instance.postMessage(
    { event, context: { awsRequestId: `request-${JSON.stringify(event)}` }, port: port2 },
    [port2],
  );
  return Promise.all([answered, closed]).then(([answer, wasClosed]) => ({ answer, closed: wasClosed }));
}

it('answers each invocation on its own channel and closes the channel once answered', async () => {
  const results = await Promise.all([1, 2, 3].map((n) => invoke({ n })));
  expect(results.map((r) => r.closed)).toEqual([true, true, true]);
  expect(results.map((r) => (r.answer as { event: unknown }).event)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  expect(results[0]!.answer).toMatchObject({ requestId: 'request-{"n":1}' });
});

it('loads the handler for an init-only invocation without running it, and closes that channel too', async () => {
  const init = await invoke({ [INIT.initKey]: INIT.initToken });
  expect(init).toEqual({ answer: { initialised: 'echo' }, closed: true });
  const next = await invoke({ n: 4 });
  // The three invocations before and this one: the init ran no handler.
  expect(next.answer).toMatchObject({ event: { n: 4 }, invocations: 4 });
});

it("gives a callback-style handler InProcessRunner's context: its answer or its error, and the time left", async () => {
  const callbackInstance = startInstance('callback.handler', 'callback', 3000);
  try {
    const done = await invoke({ n: 5 }, callbackInstance);
    expect(done.closed).toBe(true);
    const answer = done.answer as { remainingMs: number; requestId: string };
    expect(answer.requestId).toBe('request-{"n":5}');
    expect(answer.remainingMs).toBeGreaterThan(0);
    expect(answer.remainingMs).toBeLessThanOrEqual(3000);

    const failed = await invoke({ fail: 'card store unreachable' }, callbackInstance);
    // An Error of the main thread's realm (serverless-offline rejects the invocation with it), not Jest's.
    expect(types.isNativeError(failed.answer)).toBe(true);
    expect((failed.answer as Error).message).toBe('card store unreachable');
    expect(failed.closed).toBe(true);
  } finally {
    await callbackInstance.terminate();
  }
});
