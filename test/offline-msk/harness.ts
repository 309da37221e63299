/**
 * Test harness for the offline MSK plugin: an HTTP sink the fixture handler reports to (and asks
 * how to behave), a generator for the fixture's serverless.yml (per-run topic names, so parallel
 * runs on the shared broker never meet), serverless-offline as a child process, and small Kafka
 * helpers. Nothing here fakes Kafka or Lambda.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Kafka, logLevel, type Admin, type Message, type Producer } from 'kafkajs';
import { freePort, sleep } from '../../infra/local/process.ts';

export const FIXTURE_DIR = path.join(import.meta.dirname, 'fixture');
const ROOT = path.resolve(import.meta.dirname, '../..');

export const runId = () => randomBytes(4).toString('hex');

// ---------------------------------------------------------------- sink

export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: string;
  key?: string;
  value?: string;
  headers: Record<string, number[]>[];
}
export interface KafkaEvent {
  eventSource: string;
  eventSourceArn?: string;
  bootstrapServers: string;
  records: Record<string, KafkaRecord[]>;
}
export interface Call {
  fn: string;
  event: KafkaEvent;
  at: number;
  /** What the sink told the handler to do. */
  action: Action;
}
export interface Action {
  fail?: string;
  sleepMs?: number;
  result?: unknown;
}

export type Decide = (event: KafkaEvent, previousCalls: Call[]) => Action;

export class Sink {
  calls: Call[] = [];
  decide = new Map<string, Decide>();
  url = '';
  private server?: http.Server;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const { fn, event } = JSON.parse(body) as { fn: string; event: KafkaEvent };
        const previous = this.calls.filter((c) => c.fn === fn);
        const action = this.decide.get(fn)?.(event, previous) ?? {};
        this.calls.push({ fn, event, at: Date.now(), action });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(action));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  callsOf(fn: string): Call[] {
    return this.calls.filter((c) => c.fn === fn);
  }
}

/** Every record of a call, in event order, with its value decoded. */
export function recordsOf(call: Call): (KafkaRecord & { text: string })[] {
  return Object.values(call.event.records).flat().map((r) => ({ ...r, text: r.value === undefined ? '' : Buffer.from(r.value, 'base64').toString() }));
}

/** Values delivered by successful invocations of `fn`. */
export function delivered(sink: Sink, fn: string): string[] {
  return sink.callsOf(fn).filter((c) => !c.action.fail && !c.action.sleepMs).flatMap((c) => recordsOf(c).map((r) => r.text));
}

export async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

// ---------------------------------------------------------------- serverless.yml

export interface FunctionSpec {
  kind?: 'msk' | 'kafka';
  topic: string;
  /** extra event fields (batchSize, startingPosition, filterPatterns, …) */
  event?: Record<string, unknown>;
  /** CloudFormation overrides on the generated AWS::Lambda::EventSourceMapping */
  extensions?: Record<string, unknown>;
  timeout?: number;
}

export const CLUSTER_ARN = 'arn:aws:kafka:us-east-1:123456789012:cluster/local-cluster/5bd5f1f4-0000-4000-8000-000000000001-3';

/** The logical id serverless v3 gives the mapping (naming.getMSKEventLogicalId / getKafkaEventLogicalId). */
export function esmLogicalId(fnKey: string, spec: FunctionSpec): string {
  const alnum = (s: string) => {
    const t = s.replace(/[^0-9A-Za-z]/g, '');
    return t.charAt(0).toUpperCase() + t.slice(1);
  };
  const fn = fnKey.replace(/-/g, 'Dash').replace(/_/g, 'Underscore');
  const normalizedFn = fn.charAt(0).toUpperCase() + fn.slice(1);
  if (spec.kind === 'kafka') return `${normalizedFn}EventSourceMappingKafka${alnum(spec.topic).slice(0, 158)}`;
  return `${normalizedFn}EventSourceMappingMSK${alnum(CLUSTER_ARN.split('/')[1]!).slice(0, 79)}${alnum(spec.topic).slice(0, 79)}`;
}

/** Writes `fixture/serverless.<id>.yml` and returns its file name. JSON is valid YAML. */
export function writeServerlessYml(id: string, functions: Record<string, FunctionSpec>, offlineMsk: Record<string, unknown>): string {
  const fns: Record<string, unknown> = {};
  const extensions: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(functions)) {
    const kind = spec.kind ?? 'msk';
    const event = kind === 'msk'
      ? { arn: CLUSTER_ARN, topic: spec.topic, ...spec.event }
      : { topic: spec.topic, bootstrapServers: ['kafka-1.example.com:9092'], accessConfigurations: { saslScram512Auth: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka-auth'] }, ...spec.event };
    fns[key] = { handler: 'handler.handler', timeout: spec.timeout ?? 6, environment: { FN: key }, events: [{ [kind]: event }] };
    if (spec.extensions) extensions[esmLogicalId(key, spec)] = { Properties: spec.extensions };
  }
  const config = {
    service: `offline-msk-test-${id}`,
    frameworkVersion: '3',
    provider: { name: 'aws', runtime: 'nodejs20.x', region: 'us-east-1', environment: { SINK_URL: '${env:SINK_URL}' } },
    plugins: ['serverless-offline', '../../../infra/offline-msk'],
    custom: { offlineMsk },
    functions: fns,
    resources: { extensions },
  };
  const file = `serverless.${id}.yml`;
  writeFileSync(path.join(FIXTURE_DIR, file), JSON.stringify(config, null, 2));
  return file;
}

// ---------------------------------------------------------------- serverless-offline

export class Offline {
  output = '';
  child?: ChildProcess;
  exited = false;

  constructor(private configFile: string, private env: Record<string, string>) {}

  async start(expectedMappings: number): Promise<void> {
    const [httpPort, lambdaPort] = [await freePort(), await freePort()];
    this.child = spawn(process.execPath, [path.join(ROOT, 'node_modules/serverless/bin/serverless.js'), 'offline', 'start', '--config', this.configFile, '--httpPort', String(httpPort), '--lambdaPort', String(lambdaPort), '--noPrependStageInUrl'], {
      cwd: FIXTURE_DIR,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', KAFKAJS_NO_PARTITIONER_WARNING: '1', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString();
      if (process.env.OFFLINE_MSK_DEBUG) process.stderr.write(chunk);
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.child.once('exit', () => (this.exited = true));
    await until('serverless-offline and the mappings to start', () => {
      if (this.exited) throw new Error(`serverless offline exited:\n${this.output}`);
      return (this.output.match(/consuming as group/g) ?? []).length >= expectedMappings;
    }, 60_000);
  }

  /** SIGINT, as Ctrl-C; resolves with the exit code. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || this.exited) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  removeConfig(): void {
    rmSync(path.join(FIXTURE_DIR, this.configFile), { force: true });
  }
}

// ---------------------------------------------------------------- Kafka

export function kafkaClient(brokers: string[]): Kafka {
  return new Kafka({ brokers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 3000 } });
}

export async function createTopics(admin: Admin, topics: Record<string, number>): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: Object.entries(topics).map(([topic, numPartitions]) => ({ topic, numPartitions, replicationFactor: 1 })),
  });
}

export async function produce(producer: Producer, topic: string, messages: Message[]): Promise<void> {
  await producer.send({ topic, messages, acks: -1 });
}

/** Reads every record of a (small) topic from the beginning until `count` arrived. */
export async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 20_000) {
  const consumer = kafka.consumer({ groupId: `offline-msk-test-reader-${runId()}`, maxWaitTimeInMs: 100 });
  const out: { key: string | null; value: string; headers: Record<string, string> }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        out.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? '', headers });
      },
    });
    await until(`${count} records on ${topic}`, () => out.length >= count, timeoutMs);
    return out;
  } finally {
    await consumer.disconnect();
  }
}
