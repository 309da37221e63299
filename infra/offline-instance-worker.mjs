/**
 * The worker thread of one function instance under the bounded runtime (infra/offline-concurrency.cjs),
 * in place of serverless-offline 13's workerThreadHelper.js and its InProcessRunner. It differs
 * from them where they depart from Lambda or cost every invocation what Lambda pays once:
 *
 * - Lambda's init phase on its own: a message whose event is `{ [INIT_KEY]: initToken }` (the
 *   token only the runtime knows) loads the handler module — its imports and top-level code, as
 *   Lambda's init does for a provisioned instance — without invoking the handler;
 * - the handler is looked up once, as Lambda's init does (InProcessRunner resolves the module
 *   again at every invocation: three file-system checks and an import(), ~75 µs), and again only
 *   after a failed load;
 * - the environment is the thread's own (serverless-offline starts it with the function's
 *   environment), not copied onto process.env at every invocation (~110 µs for 45 variables);
 * - each invocation's reply channel is closed once it has answered.
 *
 * The handler's context, callback and answer are InProcessRunner's: `done`/`fail`/`succeed`,
 * `getRemainingTimeInMillis` against the function's timeout, and the first of the callback and
 * the returned promise.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const { codeDir, functionKey, handler, servicePath, timeout, userFunction, initKey, initToken } = workerData;
const { load } = await import(pathToFileURL(userFunction).href);

let loading;
const handlerFunction = () => {
  loading ??= load(servicePath, join(codeDir, handler)).catch((error) => {
    loading = undefined;
    throw error;
  });
  return loading;
};

async function run(event, context) {
  const handle = await handlerFunction();
  let callback;
  const answeredByCallback = new Promise((resolve, reject) => {
    callback = (error, data) => {
      if (error === 'Unauthorized') resolve('Unauthorized');
      else if (error) reject(error);
      else resolve(data);
    };
  });
  const deadline = performance.now() + timeout;
  const lambdaContext = {
    ...context,
    done: (error, data) => callback(error, data),
    fail: (error) => callback(error),
    succeed: (data) => callback(null, data),
    getRemainingTimeInMillis: () => Math.max(0, Math.floor(deadline - performance.now())),
  };
  const result = handle(event, lambdaContext, callback);
  return Promise.race(
    result != null && typeof result.then === 'function' ? [answeredByCallback, result] : [answeredByCallback],
  );
}

const isInit = (event) => event !== null && typeof event === 'object' && event[initKey] === initToken;

parentPort.on('message', async ({ context, event, port }) => {
  try {
    if (isInit(event)) {
      await handlerFunction();
      port.postMessage({ initialised: functionKey });
    } else {
      port.postMessage(await run(event, context));
    }
  } catch (error) {
    port.postMessage(error);
  } finally {
    // One channel per invocation: left open, it and its peer in the main thread stay alive with
    // their listeners, and every later message costs more (`npm run bench:ports`: 30,000
    // invocations take 32.6 s of CPU and 280 MB left open, 3.7 s and 96 MB closed).
    port.close();
  }
});
