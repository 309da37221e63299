/**
 * `npm run bench:esm`: records/s delivered through the offline MSK plugin (serverless-offline,
 * Lambda Invoke API, no-op handler) against a raw kafkajs consumer (eachBatch, no-op) reading the
 * same topic in the same run. Both rates are N / (last record − first record) so that start-up
 * (JVM-free here, but group joins and serverless boot) is left out of both.
 *
 * Env: BENCH_N (default 200000), BENCH_VALUE_BYTES (100), BENCH_PARTITIONS (6), BENCH_BATCH_SIZE
 * (10000), BENCH_CONCURRENCY (custom.offlineMsk.maxConcurrency, default = partitions),
 * BENCH_PROF (a directory: CPU-profile the serverless-offline process), KAFKA_BROKERS (else the broker on 127.0.0.1:9092, else one it starts, as `npm test` does). Last line: `esm <n> rec/s raw <n> rec/s ratio <x>`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ensureKafka } from '../infra/local/kafka.ts';
import { freePort } from '../infra/local/process.ts';

const N = Number(process.env.BENCH_N ?? 200_000);
const VALUE_BYTES = Number(process.env.BENCH_VALUE_BYTES ?? 100);
const PARTITIONS = Number(process.env.BENCH_PARTITIONS ?? 6);
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 10_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? PARTITIONS);
const broker = await ensureKafka();
const BROKERS = broker.brokers;
const DIR = path.join(import.meta.dirname, 'esm');
const ROOT = path.resolve(import.meta.dirname, '..');
const id = randomBytes(4).toString('hex');
const topic = `bench-esm-${id}`;
const kafka = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING });
const say = (line: string) => process.stderr.write(`[bench:esm] ${line}\n`);

async function produceAll(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  const value = 'x'.repeat(VALUE_BYTES);
  const started = Date.now();
  for (let sent = 0; sent < N; ) {
    const sends = [];
    for (let j = 0; j < 8 && sent < N; j++) {
      const count = Math.min(2000, N - sent);
      sends.push(producer.send({ topic, acks: 1, messages: Array.from({ length: count }, (_, i) => ({ key: `k${sent + i}`, value })) }));
      sent += count;
    }
    await Promise.all(sends);
  }
  await producer.disconnect();
  say(`produced ${N} records of ${VALUE_BYTES} bytes on ${PARTITIONS} partitions in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Raw kafkajs consumer, eachBatch with no work. */
async function raw(): Promise<number> {
  const consumer = kafka.consumer({ groupId: `bench-raw-${id}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let count = 0;
  let first = 0;
  let last = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: PARTITIONS,
      eachBatch: async ({ batch }) => {
        if (!first) first = performance.now();
        count += batch.messages.length;
        if (count >= N) {
          last = performance.now();
          resolve();
        }
      },
    });
  });
  await done;
  await consumer.disconnect();
  return (N / (last - first)) * 1000;
}

/** serverless-offline + the plugin, no-op handler; progress from the plugin's invocation log lines. */
async function esm(): Promise<number> {
  const config = `serverless.${id}.yml`;
  const logicalId = `NoopEventSourceMappingMSKBench${topic.replace(/[^0-9A-Za-z]/g, '').replace(/^./, (c) => c.toUpperCase())}`;
  writeFileSync(path.join(DIR, config), JSON.stringify({
    service: `bench-esm-${id}`,
    frameworkVersion: '3',
    provider: { name: 'aws', runtime: 'nodejs20.x', region: 'us-east-1' },
    plugins: ['serverless-offline', '../../infra/offline-msk'],
    custom: { offlineMsk: { brokers: BROKERS, maxConcurrency: CONCURRENCY } },
    functions: {
      noop: { handler: 'handler.handler', timeout: 60, events: [{ msk: { arn: 'arn:aws:kafka:us-east-1:123456789012:cluster/bench/x', topic, batchSize: BATCH_SIZE, startingPosition: 'TRIM_HORIZON' } }] },
    },
    // AWS-valid 0 s window (settable through the ESM, not through serverless v3's `msk` event).
    resources: { extensions: { [logicalId]: { Properties: { MaximumBatchingWindowInSeconds: 0 } } } },
  }));
  const [httpPort, lambdaPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [...(process.env.BENCH_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROF}`] : []), path.join(ROOT, 'node_modules/serverless/bin/serverless.js'), 'offline', 'start', '--config', config, '--httpPort', String(httpPort), '--lambdaPort', String(lambdaPort)], {
    cwd: DIR,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let count = 0;
  let first = 0;
  let last = 0;
  let tail = '';
  let buffered = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        const now = performance.now();
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          tail = `${tail}\n${line}`.slice(-3000);
          const m = / (\d+) rec (\d+) ms ok$/.exec(line);
          if (!m) continue;
          if (!first) first = now - Number(m[2]);
          count += Number(m[1]);
          if (count >= N) {
            last = now;
            resolve();
          }
        }
      };
      if (process.env.BENCH_DEBUG) child.stdout!.on("data", (c: Buffer) => process.stderr.write(c));
      child.stdout!.on("data", onData);
      if (process.env.BENCH_DEBUG) child.stderr!.on("data", (c: Buffer) => process.stderr.write(c));
      child.stderr!.on("data", onData);
      child.once('exit', (code) => reject(new Error(`serverless offline exited (${code}):${tail}`)));
    });
  } finally {
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(path.join(DIR, config), { force: true });
  }
  return (N / (last - first)) * 1000;
}

try {
  await produceAll();
  const rawRate = await raw();
  say(`raw kafkajs eachBatch: ${Math.round(rawRate)} rec/s`);
  const esmRate = await esm();
  say(`offline-msk → serverless-offline → no-op handler: ${Math.round(esmRate)} rec/s (batch ${BATCH_SIZE})`);
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
  console.log(`esm ${Math.round(esmRate)} rec/s raw ${Math.round(rawRate)} rec/s ratio ${(esmRate / rawRate).toFixed(2)}`);
} finally {
  await broker.stop();
}
