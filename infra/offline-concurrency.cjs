/**
 * Lambda's concurrency model for serverless-offline (local stage only).
 *
 * serverless-offline 13 starts one more worker thread — a whole function instance with its own
 * bundle and its own PostgreSQL pool — for every invocation that finds no idle instance, without
 * limit: 100 simultaneous orders meant 200 threads, 7 GB and a database out of connections.
 * Lambda instead runs each instance one invocation at a time, at most `reservedConcurrency`
 * instances per function, within the account's concurrency. This plugin replaces
 * serverless-offline's instance pool (its LambdaFunctionPool methods) with one that does the same:
 *
 * - per function at most `reservedConcurrency` instances (serverless.yml), else
 *   `custom.offlineConcurrency.defaultReservedConcurrency`;
 * - at most `maxInstances` instances in all (the "account limit"): a function that needs a new
 *   instance when all are taken retires the least recently used idle instance of another function,
 *   or waits for one;
 * - an invocation over the cap waits its turn for an instance instead of starting another one;
 * - an HTTP (API Gateway) invocation that would wait longer than `maxQueueWaitMs` for an instance
 *   (its place in the queue × the function's recent invocation time ÷ its instances), or finds
 *   `maxQueuedPerInstance` × cap requests already waiting, is shed on arrival: `503`
 *   problem+json with `Retry-After`, so nothing was written and the gateway's timeout is never
 *   reached by queueing. Lambda Invoke and Kafka trigger invocations wait (their callers have
 *   deadlines of their own and retry);
 * - an instance whose invocation timed out (serverless-offline terminates its worker) or whose
 *   worker died is discarded, never handed out again;
 * - an instance's thread runs infra/offline-instance-worker.mjs: its handler looked up once, its
 *   environment its own, each invocation's reply channel closed once answered (serverless-offline
 *   left every channel open, and each invocation cost more than the one before);
 * - per function `provisionedConcurrency` instances (serverless.yml; the local stage sets it in
 *   infra/aws/target-local.yml) are initialised when serverless-offline starts — Lambda's init
 *   phase only: the bundle is loaded, the handler not invoked (infra/offline-instance-worker.mjs)
 *   — and kept: never retired as idle or least recently used, replaced when one is discarded.
 *   serverless-offline's servers start listening once they are ready, so a burst right after
 *   `npm start` pays no cold starts. OFFLINE_PROVISIONED=off leaves every instance on demand.
 *
 * With one invocation per instance and a pool of one connection per instance (DB_POOL_MAX=1, as
 * on AWS), the local stack's PostgreSQL connections are bounded by `maxInstances`.
 *
 * It also offers the offline MSK plugin (infra/offline-msk) a direct way into the same instances
 * (`offlineRuntime()`): a Kafka trigger's invocation then skips the Invoke API's HTTP round trip,
 * SDK serialisation and JSON parsing — as on AWS, where the poller is not a client of the public
 * Invoke endpoint — and still runs on the function's own instances, timeout and environment.
 * Each setting can be overridden by an environment variable (OFFLINE_DEFAULT_CONCURRENCY,
 * OFFLINE_MAX_INSTANCES, OFFLINE_MAX_QUEUE_WAIT_MS). OFFLINE_CONCURRENCY=off keeps
 * serverless-offline's own unbounded pool (bench/ compares the two).
 */
'use strict';

const { randomUUID } = require('node:crypto');
const { syncBuiltinESMExports } = require('node:module');
const path = require('node:path');
const { fileURLToPath, pathToFileURL } = require('node:url');
const workerThreads = require('node:worker_threads');

const GATEWAY_TIMEOUT_MS = 25_000;
const RUNTIME = Symbol.for('shopstream.offline-concurrency.runtime');
const DEFAULTS = {
  defaultReservedConcurrency: 2,
  maxInstances: 24,
  maxQueueWaitMs: 10000,
  maxQueuedPerInstance: 100,
  idleSeconds: 600,
};
/** Provisioned instances initialised at once (each compiles its bundle: more only contend for the cores). */
const PROVISION_PARALLEL = 4;
/** The event key of an init-only invocation (infra/offline-instance-worker.mjs). */
const INIT_KEY = 'shopstream.offline-concurrency.init';

class OfflineConcurrency {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options ?? {};
    this.hooks = {
      'before:offline:start:init': () => this.install(),
      'before:offline:start': () => this.install(),
    };
  }

  async install() {
    if (process.env.OFFLINE_CONCURRENCY === 'off') return;
    const custom = this.serverless.service.custom?.offlineConcurrency ?? {};
    const number = (env, key) => Number(process.env[env] ?? custom[key] ?? DEFAULTS[key]);
    const settings = {
      defaultReservedConcurrency: number('OFFLINE_DEFAULT_CONCURRENCY', 'defaultReservedConcurrency'),
      maxInstances: number('OFFLINE_MAX_INSTANCES', 'maxInstances'),
      maxQueueWaitMs: number('OFFLINE_MAX_QUEUE_WAIT_MS', 'maxQueueWaitMs'),
      maxQueuedPerInstance: number('OFFLINE_MAX_QUEUED_PER_INSTANCE', 'maxQueuedPerInstance'),
      // Below serverless-offline's terminateIdleLambdaTime, so its own cleaner never ends an
      // instance this pool still counts as idle.
      idleSeconds: number('OFFLINE_IDLE_SECONDS', 'idleSeconds'),
    };
    // The same module instances serverless-offline imports (ESM modules are keyed by their URL).
    const lambdaDir = path.join(path.dirname(require.resolve('serverless-offline')), 'lambda');
    const { default: LambdaFunctionPool } = await import(
      pathToFileURL(path.join(lambdaDir, 'LambdaFunctionPool.js')).href
    );
    const { default: LambdaFunction } = await import(
      pathToFileURL(path.join(lambdaDir, 'LambdaFunction.js')).href
    );
    const { default: Lambda } = await import(pathToFileURL(path.join(lambdaDir, 'Lambda.js')).href);
    if (LambdaFunctionPool.prototype.get.boundedBy) return;
    const log = (message) => this.serverless.cli.log(`offline-concurrency: ${message}`);
    // Instances' threads run the project's worker helper (init-only invocations, reply ports
    // closed); in-process there is no worker.
    const inProcess =
      this.options.useInProcess === true ||
      this.serverless.service.custom?.['serverless-offline']?.useInProcess === true;
    const provisioning = process.env.OFFLINE_PROVISIONED !== 'off' && !inProcess;
    const initEvent = inProcess ? undefined : redirectInstanceWorkers(lambdaDir);
    const service = this.serverless.service;
    patchPool(LambdaFunctionPool, LambdaFunction, settings, log, {
      initEvent: provisioning ? initEvent : undefined,
      provisioned: () =>
        provisioning
          ? service
              .getAllFunctions()
              .map((key) => ({ key, definition: service.getFunction(key) }))
              .filter(({ definition }) => Number(definition.provisionedConcurrency) > 0)
          : [],
    });
    // serverless-offline's HTTP servers start after the Lambda pool: ready means provisioned.
    const startLambda = Lambda.prototype.start;
    Lambda.prototype.start = async function startWhenProvisioned() {
      const started = await startLambda.call(this);
      await offlineRuntime()?.provisioned;
      return started;
    };
  }
}

/**
 * serverless-offline's WorkerThreadRunner starts each instance's thread on its own helper, which
 * can only invoke the handler, looks the handler up again at every invocation and never closes
 * the MessageChannel it answers each invocation on. Threads of that helper start on
 * infra/offline-instance-worker.mjs instead (init-only invocations, the handler looked up once,
 * the channel closed once answered). Returns the init event, with a token of this process.
 */
function redirectInstanceWorkers(lambdaDir) {
  const runnerDir = path.join(lambdaDir, 'handler-runner');
  const helper = path.join(runnerDir, 'worker-thread-runner', 'workerThreadHelper.js');
  const instanceWorker = path.join(__dirname, 'offline-instance-worker.mjs');
  // serverless-offline's handler loader (Lambda's own UserFunction.js), which the worker calls once.
  const userFunction = path.join(runnerDir, 'in-process-runner', 'aws-lambda-ric', 'UserFunction.js');
  const initToken = randomUUID();
  const { Worker } = workerThreads;
  class InstanceWorker extends Worker {
    constructor(filename, options = {}) {
      const file = filename instanceof URL ? fileURLToPath(filename) : String(filename);
      if (path.resolve(file) !== helper) super(filename, options);
      else {
        super(instanceWorker, {
          ...options,
          workerData: {
            ...options.workerData,
            userFunction,
            initKey: INIT_KEY,
            initToken,
          },
        });
      }
    }
  }
  workerThreads.Worker = InstanceWorker;
  // WorkerThreadRunner imports `Worker` as an ES module binding: update it too.
  syncBuiltinESMExports();
  return { [INIT_KEY]: initToken };
}

/**
 * `provisioning.provisioned()` lists the functions with a provisionedConcurrency (key and
 * definition), `provisioning.initEvent` is the event of an init-only invocation; without them
 * every instance starts on demand.
 */
function patchPool(LambdaFunctionPool, LambdaFunction, settings, log, provisioning = {}) {
  // serverless-offline keeps its pool's state in private fields, so its own `get` stays the
  // factory of new instances: it creates one whenever none of the function's instances is IDLE.
  // Instances this pool has handed out report BUSY from the moment they are taken (serverless-offline
  // marks them BUSY only once their run starts), and retired ones (timed out, crashed, evicted)
  // RETIRED, so that factory never returns an instance a lease already holds.
  const createInstance = LambdaFunctionPool.prototype.get;
  const status = Object.getOwnPropertyDescriptor(LambdaFunction.prototype, 'status');
  const retired = new WeakSet();
  const held = new WeakSet();
  // Provisioned instances also report BUSY while idle: serverless-offline's own idle cleaner
  // (terminateIdleLambdaTime) must not end them.
  const pinned = new WeakSet();
  Object.defineProperty(LambdaFunction.prototype, 'status', {
    configurable: true,
    get() {
      if (retired.has(this)) return 'RETIRED';
      return held.has(this) || pinned.has(this) ? 'BUSY' : status.get.call(this);
    },
  });
  const pools = new WeakMap();
  const poolOf = (functionPool) => {
    let pool = pools.get(functionPool);
    if (!pool) {
      const factory = (key, definition) => createInstance.call(functionPool, key, definition);
      const marks = { retired, held, pinned };
      pools.set(functionPool, (pool = createPool(factory, marks, settings, log, provisioning.initEvent)));
    }
    return pool;
  };
  const get = function get(functionKey, functionDefinition) {
    return poolOf(this).lease(functionKey, functionDefinition);
  };
  get.boundedBy = settings;
  LambdaFunctionPool.prototype.get = get;
  // serverless-offline starts its pool at init: from then on, the runtime can be invoked directly.
  const start = LambdaFunctionPool.prototype.start;
  LambdaFunctionPool.prototype.start = function startPool() {
    const getInstance = get.bind(this);
    globalThis[RUNTIME] = {
      /** Runs `event` on one of the function's instances; resolves with its result, rejects with its error. */
      invoke(functionKey, functionDefinition, event) {
        const lease = getInstance(functionKey, functionDefinition);
        lease.setEvent(event);
        return lease.runHandler();
      },
      /** Settles once the provisioned instances are initialised (failures are logged, not thrown). */
      provisioned: poolOf(this).provision(provisioning.provisioned?.() ?? []),
    };
    return start.call(this);
  };
  // `offline:functionsUpdated` (serverless-esbuild's watch mode) ends every instance: start afresh.
  const cleanup = LambdaFunctionPool.prototype.cleanup;
  LambdaFunctionPool.prototype.cleanup = async function cleanupPool() {
    pools.get(this)?.forget();
    return cleanup.call(this);
  };
  log(
    `each function runs at most its reservedConcurrency (default ${settings.defaultReservedConcurrency}) instances, ` +
      `${settings.maxInstances} in all; HTTP requests that would queue over ${settings.maxQueueWaitMs} ms get 503`,
  );
}

function createPool(createInstance, { retired, held, pinned }, settings, log, initEvent) {
  /** functionKey → { cap, instances: Set, idle: LambdaFunction[], waiting: Waiter[] } */
  const functions = new Map();
  /** Idle instances of every function, least recently used first. */
  const idleOrder = new Set();
  let live = 0;
  const warm = new WeakSet();
  /** Which function's state each instance belongs to. */
  const owners = new WeakMap();
  /** Set when serverless-offline ended every instance (forget): provision again on the next invocation. */
  let reprovision = false;

  const stateOf = (functionKey, definition) => {
    let state = functions.get(functionKey);
    if (!state) {
      const cap = Number(definition.reservedConcurrency ?? settings.defaultReservedConcurrency);
      state = {
        key: functionKey,
        definition,
        cap: Math.max(1, cap),
        instances: new Set(),
        idle: [],
        waiting: [],
        /** Instances to keep initialised (provisionedConcurrency, at most the cap). */
        provisioned: 0,
        pinned: 0,
      };
      functions.set(functionKey, state);
    }
    return state;
  };

  function lease(functionKey, definition) {
    if (reprovision) {
      reprovision = false;
      for (const other of functions.values()) void topUp(other);
    }
    const state = stateOf(functionKey, definition);
    let event;
    let clientContext;
    return {
      setEvent: (value) => (event = value),
      setClientContext: (value) => (clientContext = value),
      get status() {
        return 'IDLE';
      },
      async runHandler() {
        const http = isHttpEvent(event);
        const instance = await acquire(state, http);
        if (!instance) return overloaded(state);
        let discard = false;
        const started = performance.now();
        const cold = !warm.has(instance);
        try {
          instance.setClientContext(clientContext);
          instance.setEvent(event);
          return await instance.runHandler();
        } catch (error) {
          // serverless-offline terminates the worker of an invocation that timed out; a crashed worker is gone too.
          discard = /Lambda timeout|Worker stopped|terminated/i.test(String(error?.message ?? error));
          throw error;
        } finally {
          // A cold start (loading the bundle) says nothing about how long the next invocations take.
          if (cold) warm.add(instance);
          else observe(state, performance.now() - started);
          release(state, instance, discard);
        }
      },
    };
  }

  function acquire(state, http) {
    const idle = state.idle.pop();
    if (idle) {
      idleOrder.delete(idle);
      held.add(idle);
      return Promise.resolve(idle);
    }
    if (state.instances.size < state.cap && (live < settings.maxInstances || retireIdleElsewhere(state))) {
      return Promise.resolve(create(state));
    }
    if (http && wouldWaitTooLong(state)) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter = { resolve, http, timer: undefined };
      if (http) {
        // Admitted requests wait their turn; only one still waiting when API Gateway would have
        // given up (its 29 s integration timeout) is answered 503 instead.
        waiter.timer = setTimeout(() => {
          remove(state.waiting, waiter);
          resolve(undefined);
        }, GATEWAY_TIMEOUT_MS);
      }
      state.waiting.push(waiter);
    });
  }

  /**
   * Admission at arrival: the wait this request would have (its place in the queue × the
   * function's recent invocation time ÷ its instances) must stay within maxQueueWaitMs, and the
   * queue within maxQueuedPerInstance × cap. Before the first invocation ends (cold instances)
   * only the queue length counts.
   */
  function wouldWaitTooLong(state) {
    if (state.waiting.length >= settings.maxQueuedPerInstance * state.cap) return true;
    if (state.recentMs === undefined) return false;
    return ((state.waiting.length + 1) * state.recentMs) / state.cap > settings.maxQueueWaitMs;
  }

  /** Exponentially weighted invocation time, in ms. */
  function observe(state, ms) {
    state.recentMs = state.recentMs === undefined ? ms : state.recentMs * 0.8 + ms * 0.2;
  }

  function create(state) {
    live += 1;
    const instance = createInstance(state.key, state.definition);
    if (state.instances.has(instance))
      throw new Error(`offline-concurrency: ${state.key} handed out an instance twice`);
    held.add(instance);
    state.instances.add(instance);
    owners.set(instance, state);
    return instance;
  }

  /** Frees one slot of the account-wide limit by retiring another function's idle instance. */
  function retireIdleElsewhere(state) {
    for (const instance of idleOrder) {
      const owner = ownerOf(instance);
      if (owner === state || pinned.has(instance)) continue;
      retire(owner, instance);
      return true;
    }
    return false;
  }

  const ownerOf = (instance) => owners.get(instance);

  function retire(state, instance) {
    if (pinned.delete(instance)) {
      state.pinned -= 1;
      // Lambda replaces a provisioned instance that is gone.
      setImmediate(() => void topUp(state));
    }
    idleOrder.delete(instance);
    remove(state.idle, instance);
    state.instances.delete(instance);
    retired.add(instance);
    live -= 1;
    instance.cleanup().catch(() => {});
  }

  function release(state, instance, discard) {
    held.delete(instance);
    if (discard) retire(state, instance);
    else {
      state.idle.push(instance);
      idleOrder.delete(instance);
      idleOrder.add(instance);
    }
    dispatch();
  }

  /** Hands free instances and slots to waiting invocations, oldest first per function. */
  function dispatch() {
    for (const state of functions.values()) {
      while (state.waiting.length && state.idle.length) {
        const instance = state.idle.pop();
        idleOrder.delete(instance);
        held.add(instance);
        settle(state.waiting.shift(), instance);
      }
      while (
        state.waiting.length &&
        state.instances.size < state.cap &&
        (live < settings.maxInstances || retireIdleElsewhere(state))
      ) {
        settle(state.waiting.shift(), create(state));
      }
    }
  }

  function settle(waiter, instance) {
    clearTimeout(waiter.timer);
    waiter.resolve(instance);
  }

  function overloaded(state) {
    log(`${state.key}: all ${state.cap} instances busy and the queue is full; answered 503`);
    return {
      statusCode: 503,
      headers: { 'content-type': 'application/problem+json', 'retry-after': '1' },
      body: JSON.stringify({
        type: 'https://shopstream.dev/problems/service-unavailable',
        title: 'Service unavailable',
        status: 503,
        detail:
          'The service is at capacity and did not process this request; retry after the Retry-After delay (with the same Idempotency-Key for POST /orders).',
      }),
    };
  }

  const idleMs = settings.idleSeconds * 1000;
  setInterval(
    () => {
      for (const state of functions.values()) {
        for (const instance of [...state.idle])
          if (!pinned.has(instance) && instance.idleTimeInMillis >= idleMs) retire(state, instance);
      }
    },
    Math.min(idleMs, 30_000),
  ).unref();

  /** Drops every instance (serverless-offline is ending them); waiting invocations get new ones. */
  function forget() {
    for (const state of functions.values()) {
      for (const instance of state.instances) retired.add(instance);
      state.instances.clear();
      state.idle.length = 0;
    }
    idleOrder.clear();
    live = 0;
    for (const state of functions.values()) state.pinned = 0;
    // Re-provisioned by the next invocation, not now: serverless-offline also ends its pool this
    // way when it shuts down, and compiling every provisioned bundle again then is wasted work.
    reprovision = true;
    setImmediate(dispatch);
  }

  /**
   * Initialises each function's provisionedConcurrency instances (within its cap and the
   * account-wide limit), PROVISION_PARALLEL at a time; resolves when all are ready.
   */
  async function provision(list) {
    if (!initEvent || !list.length) return;
    const started = performance.now();
    const states = list.map(({ key, definition }) => {
      const state = stateOf(key, definition);
      state.provisioned = Math.min(state.cap, Math.floor(Number(definition.provisionedConcurrency)));
      return state;
    });
    const ready = await topUpAll(states);
    const wanted = states.reduce((sum, state) => sum + state.provisioned, 0);
    log(
      `provisioned concurrency: ${ready} of ${wanted} instances of ${states.length} functions initialised in ` +
        `${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }

  async function topUpAll(states) {
    const slots = [];
    for (const state of states) {
      const missing = state.provisioned - state.pinned;
      for (let i = 0; i < missing && live < settings.maxInstances; i += 1) {
        const instance = create(state);
        pinned.add(instance);
        state.pinned += 1;
        slots.push({ state, instance });
      }
    }
    if (slots.length && live >= settings.maxInstances)
      log(`provisioned concurrency is limited by maxInstances (${settings.maxInstances})`);
    let ready = 0;
    const next = async () => {
      for (let slot = slots.shift(); slot; slot = slots.shift()) if (await initialise(slot)) ready += 1;
    };
    await Promise.all(Array.from({ length: PROVISION_PARALLEL }, next));
    return ready;
  }

  const topUp = (state) => (initEvent && state.pinned < state.provisioned ? topUpAll([state]) : 0);

  /** Lambda's init phase on a new instance: its bundle loaded, no invocation. */
  async function initialise({ state, instance }) {
    try {
      instance.setEvent(initEvent);
      await instance.runHandler();
      // Still `cold` for the wait estimate: its first invocation opens connections and compiles
      // the code it runs, and says as little about the next ones as a cold start does.
      release(state, instance, false);
      return true;
    } catch (error) {
      log(`${state.key}: a provisioned instance failed to initialise: ${error?.message ?? error}`);
      // Not replaced: a bundle that cannot load would fail again and again.
      state.provisioned -= 1;
      release(state, instance, true);
      return false;
    }
  }

  return { lease, forget, provision };
}

function isHttpEvent(event) {
  return Boolean(event && typeof event === 'object' && 'httpMethod' in event && 'requestContext' in event);
}

function remove(list, item) {
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
}

/** The bounded runtime once serverless-offline has started, for direct invocation; else undefined. */
function offlineRuntime() {
  return globalThis[RUNTIME];
}

module.exports = OfflineConcurrency;
module.exports.offlineRuntime = offlineRuntime;
// For test/offline-msk/offline-concurrency.test.ts, which runs the pool over stand-ins of serverless-offline's classes.
module.exports.patchPool = patchPool;
