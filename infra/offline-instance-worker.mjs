/**
 * The worker thread of one function instance under the bounded runtime (infra/offline-concurrency.cjs):
 * serverless-offline 13's workerThreadHelper.js, plus Lambda's init phase on its own. A message
 * whose event is `{ [INIT_KEY]: initToken }` (the token only the runtime knows) loads the handler
 * module — its imports and top-level code, as Lambda's init does for a provisioned instance —
 * without invoking the handler; every other message runs the handler exactly as
 * serverless-offline's helper does (the module loaded once, from the same cache), except that the
 * invocation's reply port is closed once it has answered.
 */
import { dirname, join } from 'node:path';
import { env } from 'node:process';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const { codeDir, functionKey, handler, servicePath, timeout, inProcessRunner, initKey, initToken } =
  workerData;
const { default: InProcessRunner } = await import(pathToFileURL(inProcessRunner).href);
const { load } = await import(
  pathToFileURL(join(dirname(inProcessRunner), 'aws-lambda-ric', 'UserFunction.js')).href
);

const runner = new InProcessRunner({ codeDir, functionKey, handler, servicePath, timeout }, env);
const isInit = (event) => event !== null && typeof event === 'object' && event[initKey] === initToken;

parentPort.on('message', async ({ context, event, port }) => {
  try {
    if (isInit(event)) {
      await load(servicePath, join(codeDir, handler));
      port.postMessage({ initialised: functionKey });
    } else {
      port.postMessage(await runner.run(event, context));
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
