/**
 * Finds or starts the Kafka broker for `npm start` and `npm test`.
 *
 * Order of preference: `KAFKA_BROKERS`; a broker already answering on 127.0.0.1:9092; else a real
 * single-node Apache Kafka in KRaft mode, resolved from Maven Central with the machine's Maven,
 * cached under `.cache/kafka/<version>/libs`, and run with the machine's Java 17+.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { TOPICS, TOPIC_PARTITIONS, deadLetterTopic, topicName } from '#layers/topics';
import { isPortOpen, log, run, spawnTethered, stopChild, waitFor } from './process.ts';

export const KAFKA_VERSION = '4.1.1';
const ROOT = path.resolve(import.meta.dirname, '../..');
const CACHE = path.join(ROOT, '.cache', 'kafka');
const HOW_TO_FIX =
  'install it (Debian: apt-get install openjdk-17-jre-headless maven), set KAFKA_BROKERS to a running broker, or run `docker compose up -d kafka`';

export interface KafkaHandle {
  brokers: string[];
  /** True when this process started the broker (and so stops it). */
  started: boolean;
  stop(): Promise<void>;
}

export interface KafkaOptions {
  /** Broker data directory; a fresh temporary one when unset. `npm start` keeps its data between runs. */
  dataDir?: string;
  port?: number;
}

export async function ensureKafka(options: KafkaOptions = {}): Promise<KafkaHandle> {
  const fromEnv = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean);
  if (fromEnv?.length) {
    log(`Kafka: using KAFKA_BROKERS=${fromEnv.join(',')}`);
    return { brokers: fromEnv, started: false, stop: async () => {} };
  }
  const port = options.port ?? 9092;
  if (await isPortOpen('127.0.0.1', port)) {
    log(`Kafka: using the broker already listening on 127.0.0.1:${port}`);
    return { brokers: [`127.0.0.1:${port}`], started: false, stop: async () => {} };
  }
  return startLocalBroker(port, options.dataDir);
}

export async function startLocalBroker(port: number, dataDir?: string): Promise<KafkaHandle> {
  const java = await requireJava();
  const libs = await ensureKafkaJars();
  const dir = dataDir ?? path.join(CACHE, 'runs', `${process.pid}-${Date.now()}`);
  const configFile = writeBrokerConfig(dir, port);
  const classpath = `${libs}/*`;
  // C1 only (no C2): on a two-core machine that also runs the functions and Postgres, the C2
  // compiler threads were most of the broker's CPU for its first minutes (JFR, docs/benchmarks.md);
  // C1 code is slower at its peak, a peak a development broker never needs. For the same reason
  // one compiler thread, the serial collector (no concurrent GC threads for a 768 MB heap) and few
  // request threads (below): 15 % less broker CPU per order in a 50/s saga (docs/benchmarks.md).
  const jvm = ['-Xms256m', '-Xmx768m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-XX:CICompilerCount=1', `-Dkafka.logs.dir=${dir}/logs`, `-Dlog4j2.configurationFile=${path.join(import.meta.dirname, 'kafka', 'log4j2.properties')}`];

  if (!existsSync(path.join(dir, 'data', 'meta.properties'))) {
    const clusterId = Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
    // `--cluster-id=<id>` in one argument: a base64url id starts with '-' once in 64 runs, and as
    // a separate argument the tool then takes it for an option ("expected one argument").
    const format = await run(java, [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', configFile, '--ignore-formatted']);
    if (format.code !== 0) throw new Error(`Formatting Kafka storage in ${dir} failed:\n${format.output}`);
  }

  log(`Kafka: starting Apache Kafka ${KAFKA_VERSION} (KRaft, single node) on 127.0.0.1:${port}, data in ${path.relative(ROOT, dir)}`);
  const child = spawnTethered(java, [...jvm, '-cp', classpath, 'kafka.Kafka', configFile], { cwd: dir });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  let exited = false;
  child.once('exit', () => (exited = true));

  const brokers = [`127.0.0.1:${port}`];
  try {
    await waitFor('[shopstream] Kafka: waiting for the broker', async () => {
      if (exited) throw new Error(`Kafka exited during start-up. See ${dir}/logs/server.log\n${output}`);
      return isBrokerReady(brokers);
    }, { timeoutMs: 90_000, onTimeout: () => `See ${dir}/logs/server.log` });
  } catch (error) {
    await stopChild(child, 2000);
    throw error;
  }
  return {
    brokers,
    started: true,
    stop: async () => {
      await stopChild(child, 15_000);
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function isBrokerReady(brokers: string[]): Promise<boolean> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 1000 }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function requireJava(): Promise<string> {
  const java = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const probe = await run(java, ['-version']).catch(() => ({ code: 127, output: '' }));
  const major = Number(/version "(\d+)/.exec(probe.output)?.[1] ?? 0);
  if (probe.code !== 0 || major < 17) {
    throw new Error(`Java 17+ not found (needed to run a local Kafka broker): ${HOW_TO_FIX}.`);
  }
  return java;
}

/** Copies the broker jars from Maven Central once; later starts reuse the cache. */
export async function ensureKafkaJars(): Promise<string> {
  const libs = path.join(CACHE, KAFKA_VERSION, 'libs');
  if (existsSync(path.join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`))) return libs;

  const mvn = await run('mvn', ['-v']).catch(() => ({ code: 127, output: '' }));
  if (mvn.code !== 0) throw new Error(`Maven not found (needed once, to fetch Kafka from Maven Central): ${HOW_TO_FIX}.`);

  log(`Kafka: fetching Apache Kafka ${KAFKA_VERSION} and its dependencies from Maven Central (first run only, ~45 MB)`);
  const staging = `${libs}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  let downloaded = 0;
  const result = await run(
    'mvn',
    ['-B', '-f', path.join(import.meta.dirname, 'kafka', 'pom.xml'), `-Dkafka.version=${KAFKA_VERSION}`,
      'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${staging}`],
    {
      onLine: (line) => {
        if (line.startsWith('Downloaded from')) {
          downloaded += 1;
          process.stderr.write(`\r[shopstream] Kafka: downloaded ${downloaded} artifacts`);
        }
      },
    },
  );
  if (downloaded) process.stderr.write('\n');
  if (result.code !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`Maven could not fetch Kafka ${KAFKA_VERSION}:\n${result.output.slice(-3000)}\nCheck that Maven Central is reachable, or set KAFKA_BROKERS.`);
  }
  mkdirSync(path.dirname(libs), { recursive: true });
  rmSync(libs, { recursive: true, force: true });
  renameSync(staging, libs);
  log(`Kafka: cached ${readdirSync(libs).length} jars in ${path.relative(ROOT, libs)}`);
  return libs;
}

function writeBrokerConfig(dir: string, port: number): string {
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  const controllerPort = port + 1;
  const file = path.join(dir, 'server.properties');
  writeFileSync(
    file,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${path.join(dir, 'data')}`,
      `num.partitions=${TOPIC_PARTITIONS}`,
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=10',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      // A single local consumer per group should not wait 3 s for others to join.
      'group.initial.rebalance.delay.ms=0',
      // Defaults (3 network, 8 I/O threads) are sized for many cores; this machine has two.
      'num.network.threads=1',
      'num.io.threads=2',
      'background.threads=2',
      'auto.create.topics.enable=true',
      'log.retention.hours=24',
      '',
    ].join('\n'),
  );
  return file;
}

/** Creates the project's topics (and their dead-letter topics) if missing. */
export async function createTopics(brokers: string[], prefix = process.env.KAFKA_TOPIC_PREFIX ?? ''): Promise<string[]> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const names = Object.values(TOPICS).flatMap((topic) => [topicName(topic, prefix), deadLetterTopic(topicName(topic, prefix))]);
    const existing = new Set(await admin.listTopics());
    const missing = names.filter((name) => !existing.has(name));
    if (missing.length) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: TOPIC_PARTITIONS, replicationFactor: 1 })),
      });
    }
    return names;
  } finally {
    await admin.disconnect();
  }
}
