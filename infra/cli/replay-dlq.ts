/**
 * `npm run dlq:replay -- <topic>… | --all [--dry-run]`: sends the records a Kafka trigger gave up on
 * (its dead-letter topic `<topic>.dlq`, see infra/esm-error-handling.cjs) back to the source topic,
 * so the consumer applies them once the cause is fixed. Consumers are idempotent, so replaying a
 * record that was in fact applied changes nothing; a record that fails again lands on the DLQ
 * again. Progress is committed in the consumer group `shopstream-dlq-replay.<dlq>`, so each
 * dead-letter record is replayed once; the command stops when it has caught up with what the DLQ
 * held at start.
 *
 * A dead-letter topic holds records of three writers, all replayed (see `recordsToReplay`):
 * - the offline MSK plugin (locally) and the functions themselves (layers/kafka/consumer.ts): the
 *   original key, value and headers plus `lambda-esm-*` failure headers, which are dropped;
 * - an AWS Kafka on-failure destination: AWS documents only that it writes "the actual failed
 *   records along with failure metadata" (kafka-on-failure-destination), not the metadata's
 *   shape. A record whose value is not an invocation record (below) is taken to be the failed
 *   record itself: key, value and headers are sent back as they are (headers other than
 *   `lambda-esm-*` are kept; our consumers ignore headers they do not know);
 * - an AWS invocation record, the JSON document AWS documents for SQS, SNS and S3 destinations
 *   (`requestContext`, `responseContext`, `KafkaBatchInfo`, and for S3 the invocation `payload`):
 *   each record of its `payload.records` is decoded (base64 key and value, byte-array headers) and
 *   sent back. One without a payload names only offsets, and cannot be replayed: it is reported
 *   with its topic-partition offsets and skipped.
 *
 * Environment: KAFKA_BROKERS (default 127.0.0.1:9092), KAFKA_TOPIC_PREFIX (default empty), and for
 * Amazon MSK with IAM KAFKA_SASL_MECHANISM=aws-msk-iam and AWS_REGION (layers/kafka/auth.ts).
 */
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel, type IHeaders, type KafkaMessage } from 'kafkajs';
import { kafkaAuthOptions } from '#layers/kafka/auth';
import { TOPICS, deadLetterTopic, topicName, type TopicName } from '#layers/topics';

export const REPLAY_GROUP = 'shopstream-dlq-replay';

/** Failure headers the offline MSK plugin and the functions' own dead letters add. */
export const FAILURE_HEADER_PREFIX = 'lambda-esm-';

/** A record to send back to the source topic. */
export interface Replayable {
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** What one dead-letter record becomes: the records to send back, or why there are none. */
export type DeadLetter = { replay: Replayable[] } | { unreplayable: string };

/** One record of a Lambda Kafka invocation event (`records["<topic>-<partition>"][i]`). */
interface InvocationEventRecord {
  topic?: string;
  partition?: number;
  offset?: number;
  key?: string | null;
  value?: string | null;
  headers?: Record<string, number[]>[];
}

interface InvocationRecord {
  requestContext: { condition?: string; functionArn?: string };
  KafkaBatchInfo?: {
    recordsInfo?: Record<string, { firstRecordOffset?: string; lastRecordOffset?: string }>;
  };
  payload?: { records?: Record<string, InvocationEventRecord[]> } | string;
}

function asInvocationRecord(value: Buffer | null): InvocationRecord | undefined {
  if (!value || value[0] !== 0x7b /* { */) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  const candidate = parsed as Partial<InvocationRecord> | null;
  const context = candidate?.requestContext;
  const isInvocationRecord =
    typeof context === 'object' &&
    context !== null &&
    ('condition' in context || 'functionArn' in context) &&
    ('payload' in candidate! || 'KafkaBatchInfo' in candidate!);
  return isInvocationRecord ? (candidate as InvocationRecord) : undefined;
}

/** A Lambda event record back to a Kafka message: base64 key and value, header values as (signed) bytes. */
function fromInvocationEventRecord(record: InvocationEventRecord): Replayable {
  const headers: IHeaders = {};
  for (const header of record.headers ?? []) {
    for (const [name, bytes] of Object.entries(header))
      headers[name] = Buffer.from(bytes.map((b) => b & 0xff));
  }
  return {
    key: record.key == null ? null : Buffer.from(record.key, 'base64'),
    value: record.value == null ? null : Buffer.from(record.value, 'base64'),
    headers,
  };
}

/** The records one dead-letter message stands for (see the module comment for the three writers). */
export function recordsToReplay(message: Pick<KafkaMessage, 'key' | 'value' | 'headers'>): DeadLetter {
  const invocation = asInvocationRecord(message.value);
  if (invocation) {
    const payload =
      typeof invocation.payload === 'string'
        ? (JSON.parse(invocation.payload) as InvocationRecord['payload'])
        : invocation.payload;
    const records =
      typeof payload === 'object' && payload?.records ? Object.values(payload.records).flat() : [];
    if (records.length) return { replay: records.map(fromInvocationEventRecord) };
    const ranges = Object.entries(invocation.KafkaBatchInfo?.recordsInfo ?? {}).map(
      ([partition, info]) =>
        `${partition} offsets ${info.firstRecordOffset ?? '?'}..${info.lastRecordOffset ?? '?'}`,
    );
    return {
      unreplayable: `an invocation record without the records (${invocation.requestContext.condition ?? 'no condition'}; ${ranges.join(', ') || 'no offsets'})`,
    };
  }
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (!name.startsWith(FAILURE_HEADER_PREFIX) && value !== undefined) headers[name] = value;
  }
  return { replay: [{ key: message.key, value: message.value, headers }] };
}

export interface ReplayOptions {
  brokers: string[];
  prefix: string;
  topics: TopicName[];
  dryRun?: boolean;
  log?: (line: string) => void;
}

/** Replays the dead-letter records of `topics`; returns how many were sent back per source topic. */
export async function replayDeadLetters({
  brokers,
  prefix,
  topics,
  dryRun = false,
  log = console.log,
}: ReplayOptions): Promise<Record<string, number>> {
  const kafka = new Kafka({
    clientId: 'shopstream-dlq-replay',
    brokers,
    logLevel: logLevel.NOTHING,
    ...kafkaAuthOptions(),
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await Promise.all([admin.connect(), producer.connect()]);
  const replayed: Record<string, number> = {};
  try {
    for (const topic of topics) {
      const source = topicName(topic, prefix);
      replayed[source] = await replayOne(
        kafka,
        admin,
        producer,
        source,
        deadLetterTopic(source),
        dryRun,
        log,
      );
      log(
        `${deadLetterTopic(source)} → ${source}: ${replayed[source]} record(s)${dryRun ? ' (dry run, nothing sent)' : ''}`,
      );
    }
  } finally {
    await Promise.all([admin.disconnect(), producer.disconnect()]);
  }
  return replayed;
}

async function replayOne(
  kafka: Kafka,
  admin: ReturnType<Kafka['admin']>,
  producer: ReturnType<Kafka['producer']>,
  source: string,
  dlq: string,
  dryRun: boolean,
  log: (line: string) => void,
): Promise<number> {
  const groupId = `${REPLAY_GROUP}.${dlq}`;
  const [committed] = await admin.fetchOffsets({ groupId, topics: [dlq] });
  const ends = await admin.fetchTopicOffsets(dlq);
  // Where each partition starts (committed, else its low watermark) and the end as of now.
  const pending = new Map<number, { from: number; end: number }>();
  for (const p of ends) {
    const done = Number(committed?.partitions.find((c) => c.partition === p.partition)?.offset ?? -1);
    const from = done >= 0 ? done : Number(p.low);
    if (from < Number(p.high)) pending.set(p.partition, { from, end: Number(p.high) });
  }
  if (!pending.size) return 0;
  if (dryRun) return [...pending.values()].reduce((n, p) => n + p.end - p.from, 0);

  let count = 0;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: dlq, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const range = pending.get(partition);
            const offset = Number(message.offset);
            if (!range || offset >= range.end) return;
            const letter = recordsToReplay(message);
            if ('replay' in letter) {
              await producer.send({ topic: source, acks: -1, messages: letter.replay });
              count += letter.replay.length;
            } else {
              log(`${dlq} partition ${partition} offset ${offset}: not replayed, ${letter.unreplayable}`);
            }
            await consumer.commitOffsets([{ topic: dlq, partition, offset: String(offset + 1) }]);
            if (offset + 1 >= range.end) pending.delete(partition);
            if (!pending.size) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return count;
}

export async function main(args: string[]): Promise<number> {
  const dryRun = args.includes('--dry-run');
  const names = args.filter((a) => !a.startsWith('--'));
  const known = Object.values(TOPICS) as string[];
  const topics = (args.includes('--all') ? known : names) as TopicName[];
  const unknown = topics.filter((t) => !known.includes(t));
  if (!topics.length || unknown.length) {
    console.error(
      `usage: npm run dlq:replay -- <topic>… | --all [--dry-run]\n  topics: ${known.join(', ')}${unknown.length ? `\n  unknown: ${unknown.join(', ')}` : ''}`,
    );
    return 2;
  }
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  await replayDeadLetters({ brokers, prefix: process.env.KAFKA_TOPIC_PREFIX ?? '', topics, dryRun });
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
