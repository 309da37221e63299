/**
 * Dead-letter topics (`<topic>.dlq`, written by a Kafka trigger that gave up on a record; see
 * infra/esm-error-handling.cjs): how many records wait to be replayed, the newest records with
 * their failure headers, and the replay itself. Shared by `npm run dlq:replay`
 * (infra/cli/replay-dlq.ts) and the console (functions/console).
 *
 * Replay progress is committed in the consumer group `shopstream-dlq-replay.<dlq>`, so each
 * dead-letter record is replayed once, whoever replays it; "waiting" means past that group's
 * committed offset (or the low watermark when the group has none).
 */
import { randomUUID } from 'node:crypto';
import type { Admin, Consumer, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';

export const REPLAY_GROUP = 'shopstream-dlq-replay';
export const replayGroupId = (dlq: string) => `${REPLAY_GROUP}.${dlq}`;

/** Per partition: the first record not yet replayed and the end (high watermark) as of now. */
export type Backlog = Map<number, { from: number; end: number }>;

/** The records waiting to be replayed, and how many the topic holds in all (retention permitting). */
export async function deadLetterDepth(
  admin: Admin,
  dlq: string,
): Promise<{ backlog: Backlog; total: number }> {
  const [committed] = await admin.fetchOffsets({ groupId: replayGroupId(dlq), topics: [dlq] });
  const ends = await admin.fetchTopicOffsets(dlq);
  const backlog: Backlog = new Map();
  let total = 0;
  for (const p of ends) {
    total += Number(p.high) - Number(p.low);
    const done = Number(committed?.partitions.find((c) => c.partition === p.partition)?.offset ?? -1);
    const from = done >= 0 ? done : Number(p.low);
    if (from < Number(p.high)) backlog.set(p.partition, { from, end: Number(p.high) });
  }
  return { backlog, total };
}

export const deadLetterBacklog = async (admin: Admin, dlq: string): Promise<Backlog> =>
  (await deadLetterDepth(admin, dlq)).backlog;

export const backlogSize = (backlog: Backlog) =>
  [...backlog.values()].reduce((n, p) => n + p.end - p.from, 0);

/*
 * What a dead-letter record stands for. A dead-letter topic holds records of three writers:
 * - the offline MSK plugin (locally) and the functions themselves (layers/kafka/consumer.ts): the
 *   original key, value and headers plus `lambda-esm-*` failure headers, which are dropped;
 * - an AWS Kafka on-failure destination, documented only as "the actual failed records along with
 *   failure metadata": a record that is not an invocation record is sent back as it is;
 * - an AWS invocation record (the JSON AWS documents for SQS, SNS and S3 destinations): each record
 *   of its `payload.records` is decoded and sent back; one without a payload cannot be replayed.
 */
/** Failure headers the offline MSK plugin and the functions' own dead letters add. */
export const FAILURE_HEADER_PREFIX = 'lambda-esm-';

/** Why a record went to the dead-letter topic: the headers every dead letter carries. */
export const DEAD_LETTER_HEADERS = {
  sourceTopic: 'lambda-esm-source-topic',
  sourcePartition: 'lambda-esm-source-partition',
  sourceOffset: 'lambda-esm-source-offset',
  function: 'lambda-esm-function',
  consumer: 'lambda-esm-consumer',
  condition: 'lambda-esm-condition',
  error: 'lambda-esm-error',
  errorClass: 'lambda-esm-error-class',
  attempts: 'lambda-esm-attempts',
} as const;

/** `lambda-esm-condition` of a record the handler dead-lettered itself (the plugin's are RetryAttemptsExhausted / RecordAgeExceeded). */
export const NON_RETRYABLE_CONDITION = 'NonRetryableError';

/** A record to send back to the source topic. */
export interface Replayable {
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** What one dead-letter record becomes: the records to send back, or why there are none. */
export type ReplayLetter = { replay: Replayable[] } | { unreplayable: string };

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
export function recordsToReplay(message: Pick<KafkaMessage, 'key' | 'value' | 'headers'>): ReplayLetter {
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

/**
 * Runs `consumer` over `dlq` until every partition in `ranges` has been read up to its end,
 * handing each record in range to `handle`; rejects after `timeoutMs` when given.
 */
async function readRanges(
  consumer: Consumer,
  dlq: string,
  ranges: Backlog,
  handle: (partition: number, message: KafkaMessage) => Promise<void>,
  { fromBeginning, timeoutMs }: { fromBeginning: boolean; timeoutMs?: number },
): Promise<void> {
  const unread = new Set(ranges.keys());
  let timer: NodeJS.Timeout | undefined;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: dlq, fromBeginning });
    await new Promise<void>((resolve, reject) => {
      if (timeoutMs !== undefined)
        timer = setTimeout(
          () => reject(new Error(`reading ${dlq} took longer than ${timeoutMs} ms`)),
          timeoutMs,
        );
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const range = ranges.get(partition);
            const offset = Number(message.offset);
            if (!range || offset < range.from || offset >= range.end) return;
            await handle(partition, message);
            if (offset + 1 >= range.end) unread.delete(partition);
            if (!unread.size) resolve();
          },
        })
        .catch(reject);
      // A group that never committed starts at the end: seek to where each range begins.
      if (!fromBeginning)
        for (const [partition, { from }] of ranges)
          consumer.seek({ topic: dlq, partition, offset: String(from) });
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}

/**
 * Sends the waiting records of `dlq` back to `source`, committing each; returns how many. With
 * `timeoutMs`, gives up after that long (what was sent is committed, so a retry goes on from there).
 */
export async function replayTopic(
  kafka: Kafka,
  admin: Admin,
  producer: Producer,
  source: string,
  dlq: string,
  { timeoutMs, log = () => {} }: { timeoutMs?: number; log?: (line: string) => void } = {},
): Promise<number> {
  const pending = await deadLetterBacklog(admin, dlq);
  if (!pending.size) return 0;
  let count = 0;
  const consumer = kafka.consumer({ groupId: replayGroupId(dlq), allowAutoTopicCreation: false });
  const sendBack = async (partition: number, message: KafkaMessage) => {
    const letter = recordsToReplay(message);
    if ('replay' in letter) {
      await producer.send({ topic: source, acks: -1, messages: letter.replay });
      count += letter.replay.length;
    } else {
      log(`${dlq} partition ${partition} offset ${message.offset}: not replayed, ${letter.unreplayable}`);
    }
    await consumer.commitOffsets([{ topic: dlq, partition, offset: String(Number(message.offset) + 1) }]);
  };
  await readRanges(consumer, dlq, pending, sendBack, { fromBeginning: true, timeoutMs }).catch(
    (error: unknown) => {
      throw new Error(`${(error as Error).message} (${count} record(s) replayed and committed)`, {
        cause: error,
      });
    },
  );
  return count;
}

export interface DeadLetter {
  partition: number;
  offset: number;
  /** When the trigger dead-lettered it (the DLQ record's timestamp). */
  at: string;
  key: string | null;
  sourceTopic?: string;
  sourcePartition?: number;
  sourceOffset?: number;
  function?: string;
  condition?: string;
  error?: string;
  attempts?: number;
  /** The start of the record's value, for recognising it. */
  valuePreview: string;
}

function toDeadLetter(partition: number, message: KafkaMessage): DeadLetter {
  const H = DEAD_LETTER_HEADERS;
  const header = (name: string) => message.headers?.[name]?.toString();
  const number = (name: string) => (header(name) === undefined ? undefined : Number(header(name)));
  return {
    partition,
    offset: Number(message.offset),
    at: new Date(Number(message.timestamp)).toISOString(),
    key: message.key?.toString() ?? null,
    sourceTopic: header(H.sourceTopic),
    sourcePartition: number(H.sourcePartition),
    sourceOffset: number(H.sourceOffset),
    function: header(H.function),
    condition: header(H.condition),
    error: header(H.error),
    attempts: number(H.attempts),
    valuePreview: (message.value?.toString() ?? '').slice(0, 200),
  };
}

/**
 * The newest `limit` records of `dlq` (newest first), read without committing anything: a
 * throwaway consumer group seeks each partition to its last `limit` records and leaves.
 */
export async function newestDeadLetters(
  kafka: Kafka,
  admin: Admin,
  dlq: string,
  limit: number,
  timeoutMs = 8000,
): Promise<DeadLetter[]> {
  const starts: Backlog = new Map();
  for (const p of await admin.fetchTopicOffsets(dlq)) {
    const end = Number(p.high);
    if (end > Number(p.low)) starts.set(p.partition, { from: Math.max(Number(p.low), end - limit), end });
  }
  if (!starts.size) return [];
  const letters: DeadLetter[] = [];
  const consumer = kafka.consumer({
    groupId: `shopstream-console-reader.${randomUUID()}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
  });
  const collect = async (partition: number, message: KafkaMessage) =>
    void letters.push(toDeadLetter(partition, message));
  await readRanges(consumer, dlq, starts, collect, { fromBeginning: false, timeoutMs });
  return letters.sort((a, b) => b.at.localeCompare(a.at) || b.offset - a.offset).slice(0, limit);
}
