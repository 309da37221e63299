/**
 * Owns one event source mapping at run time: a kafkajs consumer in the mapping's own group, the
 * per-partition buffers it fills, the dispatcher that cuts batches (batch size, batching window,
 * 6 MB), the jobs that invoke the function and decide what happens after an error, and the
 * offset commits (only for records whose invocation succeeded, was filtered out, or was handed to
 * the on-failure destination).
 *
 * Ordering: a partition belongs to at most one job at a time and a job handles its records in
 * offset order (bisected halves one after the other), so records of a partition are never
 * processed out of order. A failing batch blocks only its own partitions.
 */
'use strict';

const { Kafka, logLevel } = require('kafkajs');
const { MAX_PAYLOAD_BYTES, envelopeBytes, recordPrefix, renderEvent, serializeRecord } = require('./event.js');
const { compileFilters } = require('./filter.js');
const { sendToKafkaDestination } = require('./dead-letter.js');
const { describeStartupWait } = require('./log.js');

/**
 * @typedef {{ offset: number, json: string, bytes: number, arrivedAt: number, timestamp: number, part: PartitionState }} Entry
 * @typedef {{ key: string, topic: string, partition: number, queue: Entry[], queueBytes: number,
 *   locked: Entry[] | null, fetched: number, committed: number, paused: boolean }} PartitionState
 */

/**
 * Offsets are committed once a second, not after every batch: a commit is a request to the broker
 * and a write to its offsets topic, which under load was one more per invocation. Records finished
 * since the last commit are delivered again after a restart or rebalance; consumers skip them
 * (at least once, as on AWS).
 */
const COMMIT_INTERVAL_MS = 1000;

class Mapping {
  /**
   * @param {import('./config.js').MappingConfig} config
   * @param {{ invoker: import('./invoker.js').Invoker, log: (line: string) => void,
   *   maxConcurrency: number, retryBackoffMs: { base: number, max: number },
   *   onFunctionTimeout?: () => Promise<void> }} deps
   */
  constructor(config, { invoker, log, maxConcurrency, retryBackoffMs, onFunctionTimeout }) {
    this.config = config;
    this.onFunctionTimeout = onFunctionTimeout ?? (async () => {});
    this.invoker = invoker;
    this.log = log;
    this.maxConcurrency = Math.max(1, maxConcurrency);
    this.backoff = retryBackoffMs;
    this.filter = compileFilters(config.filterPatterns);
    this.source = { kind: config.kind, eventSourceArn: config.eventSourceArn, bootstrapServers: config.brokers.join(',') };
    this.payloadLimit = MAX_PAYLOAD_BYTES - envelopeBytes(this.source);
    // Enough buffered per partition to fill the next batch while one is in flight.
    this.highWater = Math.max(2 * config.batchSize, 500);
    this.highWaterBytes = 2 * MAX_PAYLOAD_BYTES;
    /** @type {Map<string, PartitionState>} */
    this.partitions = new Map();
    /** @type {Set<Promise<void>>} */
    this.jobs = new Set();
    this.stopping = false;
    this.roundRobin = 0;
    this.workWaiters = new Set();
    this.stopWaiters = new Set();
    this.kafka = new Kafka({
      clientId: `offline-msk-${config.functionKey}`,
      brokers: config.brokers,
      logLevel: logLevel.NOTHING,
      // Reconnect patiently: a broker restart should look like a pause, not an outage.
      retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 8 },
    });
  }

  get label() {
    return `${this.config.functionKey} ← ${this.config.topic}`;
  }

  async start() {
    await this.applyStartingPosition();
    if (this.stopping) return;
    this.dispatcher = this.dispatchLoop().catch((error) => this.log(`${this.label}: dispatcher stopped: ${error.stack ?? error}`));
    this.commitTimer = setInterval(() => this.flushCommits(), COMMIT_INTERVAL_MS);
    await this.startConsumer();
    const { maximumRetryAttempts: retries, maximumRecordAgeSeconds: age } = this.config;
    const limits = `retries ${retries < 0 ? 'infinite' : retries}, record age ${age < 0 ? 'infinite' : `${age} s`}`;
    this.log(`${this.label}: consuming as group ${this.config.groupId} (batch ${this.config.batchSize}, window ${this.config.batchingWindowMs} ms, start ${this.config.startingPosition}, ${limits})`);
  }

  /**
   * AWS applies StartingPosition only when the group has no committed offsets; resolve it once and
   * commit it, so that a restart before the first record resumes where the mapping began.
   */
  async applyStartingPosition() {
    const { topic, groupId, startingPosition, startingPositionTimestamp } = this.config;
    const admin = this.kafka.admin();
    let lastWait = '';
    try {
      await admin.connect();
      for (;;) {
        if (this.stopping) return;
        try {
          const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
          const partitions = committed[0]?.partitions ?? [];
          if (partitions.length && partitions.some((p) => Number(p.offset) >= 0)) return;
          const watermarks = await admin.fetchTopicOffsets(topic);
          let offsets;
          if (startingPosition === 'AT_TIMESTAMP') {
            // StartingPositionTimestamp is Unix seconds; Kafka's index is milliseconds.
            offsets = await admin.fetchTopicOffsetsByTimestamp(topic, Math.round(startingPositionTimestamp * 1000));
            offsets = offsets.map((o) => ({ partition: o.partition, offset: Number(o.offset) < 0 ? watermarks.find((w) => w.partition === o.partition).high : o.offset }));
          } else {
            offsets = watermarks.map((w) => ({ partition: w.partition, offset: startingPosition === 'LATEST' ? w.high : w.low }));
          }
          await admin.setOffsets({ groupId, topic, partitions: offsets });
          return;
        } catch (error) {
          const wait = describeStartupWait(error, topic);
          if (wait && wait !== lastWait) this.log(`${this.label}: ${wait}`);
          lastWait = wait;
          await this.sleep(2000);
        }
      }
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  async startConsumer() {
    const consumer = this.kafka.consumer({
      groupId: this.config.groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 250,
      retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 8, restartOnFailure: async () => true },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      // Pauses do not survive a restarted consumer; re-apply them.
      const paused = [...this.partitions.values()].filter((p) => p.paused);
      if (paused.length) consumer.pause(paused.map((p) => ({ topic: p.topic, partitions: [p.partition] })));
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.stopping) return;
      this.log(`${this.label}: consumer lost the broker (${payload.error?.message}); ${payload.restart ? 'reconnecting' : 'restarting'}`);
      // kafkajs restarts by itself after retriable errors; after others, start a new consumer.
      if (!payload.restart) setTimeout(() => this.restartConsumer(consumer), 2000).unref();
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [this.config.topic], fromBeginning: this.config.startingPosition !== 'LATEST' });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (payload) => this.onFetched(payload),
    });
  }

  async restartConsumer(old) {
    if (this.stopping || this.consumer !== old) return;
    await old.disconnect().catch(() => {});
    try {
      await this.startConsumer();
    } catch (error) {
      this.log(`${this.label}: reconnect failed (${error.message}); retrying`);
      setTimeout(() => this.restartConsumer(this.consumer), 2000).unref();
    }
  }

  /** @returns {PartitionState} */
  partitionState(topic, partition) {
    const key = `${topic}-${partition}`;
    let p = this.partitions.get(key);
    if (!p) {
      p = {
        key, topic, partition, queue: [], queueBytes: 0, locked: null, fetched: -1, committed: -1, paused: false,
        prefix: recordPrefix(topic, partition),
      };
      this.partitions.set(key, p);
    }
    return p;
  }

  /** kafkajs eachBatch: move fetched records into the partition's queue; never blocks on handlers. */
  async onFetched({ batch, resolveOffset }) {
    const p = this.partitionState(batch.topic, batch.partition);
    const now = Date.now();
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      // A restarted consumer fetches again from the committed offset; keep what we already have.
      if (offset <= p.fetched) {
        resolveOffset(message.offset);
        continue;
      }
      if (p.queue.length >= this.highWater || p.queueBytes >= this.highWaterBytes) break; // fetched again after resume
      p.fetched = offset;
      resolveOffset(message.offset);
      if (message.isControlRecord) continue;
      if (this.filter && !this.filter(message.value)) continue; // dropped; committed past with the next commit
      const json = serializeRecord(p.prefix, message);
      const bytes = Buffer.byteLength(json);
      p.queue.push({ offset, json, bytes, arrivedAt: now, timestamp: Number(message.timestamp), part: p });
      p.queueBytes += bytes;
    }
    if (!p.paused && (p.queue.length >= this.highWater || p.queueBytes >= this.highWaterBytes)) {
      p.paused = true;
      this.consumer.pause([{ topic: p.topic, partitions: [p.partition] }]);
    }
    this.wakeUp();
  }

  /** Cuts batches and starts a job for each, as long as free partitions and concurrency allow. */
  async dispatchLoop() {
    while (!this.stopping) {
      const next = this.nextBatch();
      if (Array.isArray(next)) {
        const job = this.runJob(next).catch((error) => this.log(`${this.label}: job failed unexpectedly: ${error.stack ?? error}`));
        this.jobs.add(job);
        job.finally(() => {
          this.jobs.delete(job);
          this.wakeUp();
        });
      } else {
        await this.waitForWork(next);
      }
    }
  }

  /** @returns {Entry[] | number} a batch, or how long to wait before looking again */
  nextBatch() {
    if (this.jobs.size >= this.maxConcurrency) return 60_000;
    const ready = [...this.partitions.values()].filter((p) => !p.locked && p.queue.length > 0);
    if (ready.length === 0) return 60_000;
    let count = 0;
    let bytes = 0;
    let oldest = Infinity;
    for (const p of ready) {
      count += p.queue.length;
      bytes += p.queueBytes;
      oldest = Math.min(oldest, p.queue[0].arrivedAt);
    }
    const waited = Date.now() - oldest;
    const full = count >= this.config.batchSize || bytes >= this.payloadLimit;
    if (!full && waited < this.config.batchingWindowMs) return this.config.batchingWindowMs - waited;

    // Rotate the starting partition so that a busy partition cannot starve the others.
    const start = this.roundRobin++ % ready.length;
    const order = [...ready.slice(start), ...ready.slice(0, start)];
    /** @type {Entry[]} */
    const batch = [];
    let size = 0;
    for (const p of order) {
      if (batch.length >= this.config.batchSize) break;
      size += p.key.length + 8;
      // Count first, then take with one splice: shift() per record is quadratic on long queues.
      let n = 0;
      let takenBytes = 0;
      while (n < p.queue.length && batch.length + n < this.config.batchSize) {
        const entry = p.queue[n];
        if (size + entry.bytes + 1 > this.payloadLimit && batch.length + n > 0) break;
        size += entry.bytes + 1;
        takenBytes += entry.bytes;
        n += 1;
      }
      if (n === 0) break;
      const taken = p.queue.splice(0, n);
      p.queueBytes -= takenBytes;
      p.locked = taken;
      batch.push(...taken);
      if (p.paused && p.queue.length < this.highWater / 2 && p.queueBytes < this.highWaterBytes / 2) {
        p.paused = false;
        this.consumer?.resume([{ topic: p.topic, partitions: [p.partition] }]);
      }
      if (size >= this.payloadLimit) break;
    }
    return batch;
  }

  /** Runs a batch to its end (success, destination or stop) and releases its partitions. */
  async runJob(entries) {
    try {
      await this.process(entries, 0);
    } finally {
      for (const p of new Set(entries.map((e) => e.part))) {
        const unfinished = p.locked ?? [];
        p.locked = null;
        // Only after an unexpected error: put the records back in front so they are not skipped.
        if (unfinished.length && !this.stopping) {
          p.queue.unshift(...unfinished);
          p.queueBytes += unfinished.reduce((n, e) => n + e.bytes, 0);
        }
      }
    }
  }

  /**
   * One batch through AWS's error handling: retry with capped exponential backoff (the partition
   * waits), partial batch response, bisect on error, then — once the retries are spent or a record
   * is older than MaximumRecordAgeInSeconds — the on-failure destination.
   * @param {Entry[]} entries
   * @param {number} retries retries already spent (the first attempt is not a retry)
   * @param {string | null} lastError the error of the last attempt, when there was one
   * @param {number} attempts invocations these records have had so far
   */
  async process(entries, retries, lastError = null, attempts = 0) {
    const { config } = this;
    let unreachableWaits = 0;
    while (!this.stopping) {
      // MaximumRecordAgeInSeconds is the age of the oldest record Lambda still sends to the
      // function: an expired record is not invoked again, it goes to the destination.
      const expired = entries.filter((e) => this.isExpired(e));
      if (expired.length) {
        await this.discard(expired, { error: lastError ?? 'older than MaximumRecordAgeInSeconds before its first attempt', condition: 'RecordAgeExceeded', attempts });
        entries = entries.filter((e) => !expired.includes(e));
        if (!entries.length || this.stopping) return;
      }
      const outcome = await this.invoker.invoke(config.functionName, renderEvent(this.source, groupByPartition(entries)));
      let error = null;
      let remaining = entries;
      if (outcome.ok) {
        const failedFrom = config.reportBatchItemFailures ? parseBatchItemFailures(outcome.payload, entries) : new Map();
        if (failedFrom === null) {
          error = 'invalid batchItemFailures in the function response; the whole batch failed';
        } else if (failedFrom.size === 0) {
          this.logInvocation(entries, outcome.ms, 'ok', retries);
          this.markDone(entries);
          return;
        } else {
          remaining = entries.filter((e) => failedFrom.has(e.part.key) && e.offset >= failedFrom.get(e.part.key));
          this.markDone(entries.filter((e) => !remaining.includes(e)));
          error = `partial batch response: ${remaining.length} of ${entries.length} records failed`;
        }
      } else if (outcome.reason === 'unreachable') {
        // serverless-offline is not answering (starting or stopping): wait, it is not an attempt.
        if (unreachableWaits++ % 10 === 0) this.logInvocation(entries, outcome.ms, `not delivered (${outcome.error})`, retries);
        await this.sleep(1000);
        continue;
      } else {
        error = outcome.error;
        if (outcome.timedOut) await this.onFunctionTimeout();
      }
      this.logInvocation(entries, outcome.ms, `error: ${error}`, retries);
      lastError = error;
      attempts += 1;
      entries = remaining;

      if (config.bisectBatchOnFunctionError && entries.length > 1) {
        // Splitting does not spend a retry; each half keeps the count and runs after the other.
        const half = Math.ceil(entries.length / 2);
        await this.process(entries.slice(0, half), retries, error, attempts);
        await this.process(entries.slice(half), retries, error, attempts);
        return;
      }
      if (config.maximumRetryAttempts >= 0 && retries >= config.maximumRetryAttempts) {
        await this.discard(entries, { error, condition: 'RetryAttemptsExhausted', attempts });
        return;
      }
      retries += 1;
      await this.sleep(this.retryDelayMs(retries, entries));
    }
  }

  /** @param {Entry} entry */
  isExpired(entry) {
    const maxAge = this.config.maximumRecordAgeSeconds;
    return maxAge >= 0 && Date.now() - entry.timestamp > maxAge * 1000;
  }

  /**
   * Capped exponential backoff before retry `retry` (1-based), cut short when the oldest record
   * expires sooner, so an expired record reaches the destination on time.
   * @param {number} retry
   * @param {Entry[]} entries
   */
  retryDelayMs(retry, entries) {
    const delay = Math.min(this.backoff.max, this.backoff.base * 2 ** Math.min(retry - 1, 30));
    const maxAge = this.config.maximumRecordAgeSeconds;
    if (maxAge < 0) return delay;
    const expiresIn = Math.min(...entries.map((e) => e.timestamp)) + maxAge * 1000 - Date.now() + 1;
    return Math.max(0, Math.min(delay, expiresIn));
  }

  /** Hands failed records to the on-failure destination (or drops them, as AWS does without one). */
  async discard(entries, failure) {
    const destination = this.config.onFailureDestination;
    const where = `${describe(entries)}`;
    if (destination?.startsWith('kafka://')) {
      for (let attempt = 0; !this.stopping; attempt++) {
        try {
          if (!this.producer) {
            this.producer = this.kafka.producer({ allowAutoTopicCreation: true });
            await this.producer.connect();
          }
          await sendToKafkaDestination(this.producer, destination, entries, { ...failure, functionName: this.config.functionName });
          this.log(`${this.label}: ${where} sent to ${destination} (${failure.condition})`);
          break;
        } catch (error) {
          if (attempt % 10 === 0) this.log(`${this.label}: could not write to ${destination} (${error.message}); retrying`);
          await this.sleep(1000);
        }
      }
      if (this.stopping) return; // not written: leave uncommitted, they come back next time
    } else {
      this.log(`${this.label}: ${where} discarded (${failure.condition}${destination ? `; destination ${destination} has no local equivalent` : ''})`);
    }
    this.markDone(entries);
  }

  /**
   * Records are finished: release them from their partitions' locks so the offset can be committed
   * (by the timer, COMMIT_INTERVAL_MS, or at stop).
   */
  markDone(entries) {
    const last = new Map();
    for (const e of entries) last.set(e.part, Math.max(last.get(e.part) ?? -1, e.offset));
    for (const [p, offset] of last) if (p.locked) p.locked = p.locked.filter((e) => e.offset > offset);
  }

  /**
   * Commits, per partition, the first offset not yet finished. Runs one commit at a time and again
   * if asked meanwhile; failures (broker away) are retried by the next call or the timer.
   */
  flushCommits() {
    if (this.committing) {
      this.commitAgain = true;
      return this.committing;
    }
    const offsets = [];
    for (const p of this.partitions.values()) {
      if (p.fetched < 0) continue;
      const next = p.locked?.length ? p.locked[0].offset : p.queue.length ? p.queue[0].offset : p.fetched + 1;
      if (next > p.committed) offsets.push({ p, next });
    }
    if (offsets.length === 0 || !this.consumer) return Promise.resolve();
    this.committing = this.consumer
      .commitOffsets(offsets.map(({ p, next }) => ({ topic: p.topic, partition: p.partition, offset: String(next) })))
      .then(() => {
        for (const { p, next } of offsets) p.committed = Math.max(p.committed, next);
        if (this.commitFailing) this.log(`${this.label}: offset commits resumed`);
        this.commitFailing = false;
      })
      .catch((error) => {
        // Kept and retried by the next call or the timer; the records stay delivered.
        if (!this.commitFailing) this.log(`${this.label}: offset commit failed (${error.message}); retrying`);
        this.commitFailing = true;
      })
      .finally(() => {
        this.committing = null;
        if (this.commitAgain) {
          this.commitAgain = false;
          this.flushCommits();
        }
      });
    return this.committing;
  }

  logInvocation(entries, ms, outcome, retries) {
    const attempt = retries > 0 ? ` retry ${retries}` : '';
    this.log(`${this.config.functionKey} ${describe(entries)} ${entries.length} rec ${ms} ms${attempt} ${outcome}`);
  }

  /** Waits `ms`, or less when the mapping stops. */
  sleep(ms) {
    return this.waitOn(this.stopWaiters, ms);
  }

  /** Waits `ms` or until there is something to do (new records, a finished job, stop). */
  waitForWork(ms) {
    return this.waitOn(this.workWaiters, ms);
  }

  waitOn(set, ms) {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  wakeUp() {
    for (const done of [...this.workWaiters]) done();
  }

  async stop(graceMs = 10_000) {
    this.stopping = true;
    this.wakeUp();
    for (const done of [...this.stopWaiters]) done();
    clearInterval(this.commitTimer);
    const deadline = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all([...this.jobs, this.dispatcher]), deadline]);
    await Promise.race([this.flushCommits(), deadline]);
    await this.consumer?.disconnect().catch(() => {});
    await this.producer?.disconnect().catch(() => {});
  }
}

/** @param {Entry[]} entries */
function groupByPartition(entries) {
  /** @type {Map<string, string[]>} */
  const parts = new Map();
  for (const e of entries) {
    let list = parts.get(e.part.key);
    if (!list) parts.set(e.part.key, (list = []));
    list.push(e.json);
  }
  return parts;
}

/** `orders-0@12..19,orders-2@4` */
function describe(entries) {
  const ranges = new Map();
  for (const e of entries) {
    const r = ranges.get(e.part.key);
    if (r) r[1] = e.offset;
    else ranges.set(e.part.key, [e.offset, e.offset]);
  }
  return [...ranges].map(([key, [a, b]]) => (a === b ? `${key}@${a}` : `${key}@${a}..${b}`)).join(',');
}

/**
 * ReportBatchItemFailures for Kafka: `{ batchItemFailures: [{ itemIdentifier: { partition:
 * "<topic>-<partition>", offset } }] }`. Returns, per partition, the offset it resumes at (the
 * lowest reported), an empty map for a complete success, or null when the response is malformed
 * or names a record not in the batch (then the whole batch failed).
 * @param {unknown} payload
 * @param {Entry[]} entries
 * @returns {Map<string, number> | null}
 */
function parseBatchItemFailures(payload, entries) {
  const result = new Map();
  if (payload == null || typeof payload !== 'object' || !('batchItemFailures' in payload)) return result;
  const failures = payload.batchItemFailures;
  if (failures == null) return result;
  if (!Array.isArray(failures)) return null;
  for (const failure of failures) {
    const id = failure?.itemIdentifier;
    if (!id || typeof id !== 'object' || typeof id.partition !== 'string') return null;
    const offset = typeof id.offset === 'number' ? id.offset : typeof id.offset === 'string' && /^\d+$/.test(id.offset) ? Number(id.offset) : NaN;
    if (!entries.some((e) => e.part.key === id.partition && e.offset === offset)) return null;
    result.set(id.partition, Math.min(result.get(id.partition) ?? Infinity, offset));
  }
  return result;
}

module.exports = { Mapping, parseBatchItemFailures };
