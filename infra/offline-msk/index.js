/**
 * serverless-offline-msk: a Serverless Framework v3 plugin that, alongside serverless-offline,
 * turns every function's `msk` and `kafka` events into Kafka consumers on real brokers and invokes
 * the functions through serverless-offline's Lambda API the way AWS's event source mapping poller
 * does. This file owns the lifecycle: which hooks start and stop the mappings.
 */
'use strict';

const { readMappings, readPluginOptions } = require('./lib/config.js');
const { Invoker } = require('./lib/invoker.js');
const { Mapping } = require('./lib/mapping.js');
const { createLogger } = require('./lib/log.js');
const { offlineRuntime } = require('../offline-concurrency.cjs');

/** Logged once the mappings have joined their consumer groups (or gave up waiting for the broker). */
const STARTED_LINE = 'event source mappings started';

class ServerlessOfflineMsk {
  /**
   * @param {any} serverless
   * @param {Record<string, any>} cliOptions
   * @param {any} utils serverless v3's plugin utils (log, progress)
   */
  constructor(serverless, cliOptions, utils) {
    this.serverless = serverless;
    this.cliOptions = cliOptions ?? {};
    this.log = createLogger(utils);
    /** @type {Mapping[]} */
    this.mappings = [];
    this.hooks = {
      // `sls offline start`: serverless-offline starts its Lambda API in its own `init` hook, which
      // runs before ours (list this plugin after serverless-offline). It calls process.exit in its
      // `end` hook, so stop before it: `before:offline:start:end`.
      // The line after start tells a supervisor (infra/cli/stack.ts) that the triggers consume.
      'offline:start:init': () => this.start().finally(() => this.log(STARTED_LINE)),
      'before:offline:start:end': () => this.stop(),
      // `sls offline` (no `start`) runs everything inside one hook and exits from it; start early
      // (invocations wait until the Lambda API answers) and stop on the same signals it uses.
      'before:offline:start': () => this.startForPlainOffline(),
    };
  }

  async start() {
    if (this.started) return;
    this.started = true;
    const options = readPluginOptions(this.serverless.service, this.cliOptions);
    if (!options.enabled) return;
    const configs = readMappings(this.serverless, options);
    const enabled = configs.filter((c) => {
      if (!c.enabled) this.log(`${c.functionKey} ← ${c.topic}: mapping disabled (enabled: false)`);
      return c.enabled;
    });
    if (enabled.length === 0) return;
    const byName = new Map(
      this.serverless.service.getAllFunctions().map((functionKey) => {
        const definition = this.serverless.service.getFunction(functionKey);
        return [definition.name ?? functionKey, { functionKey, definition }];
      }),
    );
    this.invoker = new Invoker({
      endpoint: options.lambdaEndpoint,
      region: options.region,
      direct: offlineRuntime,
      functionOf: (functionName) => byName.get(functionName),
    });
    this.log(`${enabled.length} Kafka event source mapping(s), invoking through ${options.lambdaEndpoint}`);
    for (const config of enabled) {
      for (const warning of config.warnings) this.log(`${config.functionKey} ← ${config.topic}: ${warning} (AWS would refuse it; used as given locally)`);
      const mapping = new Mapping(config, {
        invoker: this.invoker,
        log: this.log,
        maxConcurrency: options.maxConcurrency,
        retryBackoffMs: options.retryBackoffMs,
        onFunctionTimeout: () => this.recycleFunctions(),
      });
      this.mappings.push(mapping);
    }
    // A mapping that cannot reach its broker keeps trying in the background; do not hold up offline.
    await Promise.all(this.mappings.map((m) => Promise.race([
      m.start().catch((error) => this.log(`${m.label}: could not start: ${error.message}`)),
      new Promise((resolve) => setTimeout(resolve, 15_000).unref()),
    ])));
  }

  async startForPlainOffline() {
    const stopOnSignal = () => void this.stop();
    process.once('SIGINT', stopOnSignal);
    process.once('SIGTERM', stopOnSignal);
    this.start().catch((error) => this.log(`start failed: ${error.stack ?? error}`));
  }

  /**
   * serverless-offline 13 terminates a timed-out function's worker thread but keeps the function
   * in its pool, so every later invocation of it hangs until it times out too. Its documented
   * hook for plugins that change functions (`offline:functionsUpdated`, used by serverless-esbuild
   * in watch mode) empties the pool; the retry then gets a fresh worker, as on AWS. One at a time.
   */
  recycleFunctions() {
    // The project's bounded runtime discards a timed-out instance itself.
    if (offlineRuntime()) return Promise.resolve();
    this.recycling ??= this.serverless.pluginManager
      .spawn('offline:functionsUpdated')
      .catch((error) => this.log(`could not recycle functions after a timeout: ${error.message}`))
      .finally(() => (this.recycling = null));
    return this.recycling;
  }

  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.mappings.map((m) => m.stop()));
    this.invoker?.destroy();
    if (this.mappings.length) this.log('stopped');
  }
}

module.exports = ServerlessOfflineMsk;
module.exports.STARTED_LINE = STARTED_LINE;
