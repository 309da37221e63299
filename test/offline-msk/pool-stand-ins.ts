/**
 * Stand-ins shaped like serverless-offline 13's LambdaFunctionPool and LambdaFunction (private
 * state, a factory `get` that reuses any IDLE instance, `status` BUSY only while running), for the
 * bounded runtime's unit tests (infra/offline-concurrency.cjs patches the pool's methods). Each
 * instance records the events it ran; the class records instances created and ended, every run,
 * and the peak of concurrent runs.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const { patchPool, offlineRuntime } = require('../../infra/offline-concurrency.cjs') as {
  patchPool: (
    pool: unknown,
    fn: unknown,
    settings: Record<string, number>,
    log: (line: string) => void,
    provisioning?: { initEvent: unknown; provisioned: () => { key: string; definition: object }[] },
  ) => void;
  offlineRuntime: () => { provisioned: Promise<void> } | undefined;
};

/** How long one run takes, in ms. */
let runMs = () => 5;
export const setRunTime = (ms: () => number) => (runMs = ms);

export class FakeLambdaFunction {
  static created: FakeLambdaFunction[] = [];
  static ended: FakeLambdaFunction[] = [];
  static runs: { instance: FakeLambdaFunction; event: unknown }[] = [];
  static running = 0;
  static peak = 0;
  #status = 'IDLE';
  #event: unknown;
  events: unknown[] = [];
  idleTimeInMillis = 0;
  constructor(readonly key: string) {
    FakeLambdaFunction.created.push(this);
  }
  get status() {
    return this.#status;
  }
  setEvent(event: unknown) {
    this.#event = event;
  }
  setClientContext() {}
  async runHandler() {
    this.#status = 'BUSY';
    FakeLambdaFunction.running++;
    FakeLambdaFunction.peak = Math.max(FakeLambdaFunction.peak, FakeLambdaFunction.running);
    const event = this.#event;
    await new Promise((resolve) => setTimeout(resolve, runMs()));
    this.events.push(event);
    FakeLambdaFunction.runs.push({ instance: this, event });
    FakeLambdaFunction.running--;
    this.#status = 'IDLE';
    return { echoed: event };
  }
  async cleanup() {
    FakeLambdaFunction.ended.push(this);
  }
}

export class FakeLambdaFunctionPool {
  #pool = new Map<string, Set<FakeLambdaFunction>>();
  get(functionKey: string): FakeLambdaFunction {
    const set = this.#pool.get(functionKey) ?? new Set<FakeLambdaFunction>();
    this.#pool.set(functionKey, set);
    const idle = [...set].find((f) => f.status === 'IDLE');
    if (idle) return idle;
    const created = new FakeLambdaFunction(functionKey);
    set.add(created);
    return created;
  }
  start() {}
  async cleanup() {}
}
