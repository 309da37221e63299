/**
 * `npm run dlq:replay` against the run's real Kafka broker, with dead letters of every writer a
 * `<topic>.dlq` can have: the offline MSK plugin locally (`lambda-esm-*` headers), an AWS Kafka
 * on-failure destination writing the failed record itself, and AWS's documented invocation record
 * (the JSON document of SQS/SNS/S3 destinations, with and without the records). Each record is
 * sent back to its source topic once, as it was consumed, and nothing else is.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { TOPICS, deadLetterTopic, topicName } from '#layers/topics';
import { replayDeadLetters } from '../../infra/cli/replay-dlq.ts';
import { requireEnv } from '../support/api.ts';

const brokers = requireEnv('KAFKA_BROKERS').split(',');
const kafka = new Kafka({ clientId: 'replay-dlq-test', brokers, logLevel: logLevel.NOTHING });
const prefix = `replay-${randomUUID().slice(0, 8)}.`;
const source = topicName(TOPICS.orderPlaced, prefix);
const dlq = deadLetterTopic(source);

/** Java's signed bytes, as Lambda's Kafka events carry header values. */
const signedBytes = (text: string) => [...Buffer.from(text, 'utf8')].map((b) => (b > 127 ? b - 256 : b));
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

interface Read {
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

async function readAll(topic: string, count: number): Promise<Read[]> {
  const consumer = kafka.consumer({ groupId: `replay-dlq-test-reader-${randomUUID()}` });
  const read: Read[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${read.length} of ${count} records from ${topic}`)),
        30_000,
      );
      consumer
        .run({
          eachMessage: async ({ message }) => {
            const headers = Object.fromEntries(
              Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
            );
            read.push({
              key: message.key?.toString() ?? null,
              value: message.value?.toString() ?? null,
              headers,
            });
            if (read.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return read;
}

async function end(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [source, dlq].map((topic) => ({ topic, numPartitions: 2 })),
    });
  } finally {
    await admin.disconnect();
  }
});

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [source, dlq] }).catch(() => {});
  await admin.disconnect();
});

it('replays local, AWS raw and AWS invocation-record dead letters to the source topic, once', async () => {
  const failedRecord = (n: number, headers: IHeaders = {}) => ({
    key: `order-${n}`,
    value: JSON.stringify({ eventId: `e${n}`, type: 'order.placed', data: { n } }),
    headers,
  });
  const invocationRecord = {
    requestContext: {
      requestId: randomUUID(),
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:shopstream-prod-reserveStock',
      condition: 'RecordAgeExceeded',
      approximateInvokeCount: 42,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: new Date().toISOString(),
    KafkaBatchInfo: {
      batchSize: 2,
      recordsInfo: { [`${source}-0`]: { firstRecordOffset: '7', lastRecordOffset: '8' } },
    },
    payload: {
      eventSource: 'aws:kafka',
      records: {
        [`${source}-0`]: [
          {
            topic: source,
            partition: 0,
            offset: 7,
            timestamp: Date.now(),
            timestampType: 'CREATE_TIME',
            key: base64('order-3'),
            value: base64(failedRecord(3).value),
            headers: [{ 'correlation-id': signedBytes('corr-ë-3') }],
          },
          {
            topic: source,
            partition: 0,
            offset: 8,
            timestamp: Date.now(),
            timestampType: 'CREATE_TIME',
            key: base64('order-4'),
            value: base64(failedRecord(4).value),
            headers: [],
          },
        ],
      },
    },
  };
  const metadataOnly = { ...invocationRecord, payload: undefined }; // JSON.stringify drops it
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic: dlq,
      acks: -1,
      messages: [
        // The offline MSK plugin: the record plus its failure headers.
        failedRecord(1, {
          'correlation-id': 'corr-1',
          'lambda-esm-condition': 'RecordAgeExceeded',
          'lambda-esm-error': 'connection refused',
          'lambda-esm-source-offset': '5',
        }),
        // An AWS on-failure destination writing the failed record itself (its metadata headers are undocumented).
        failedRecord(2, { 'correlation-id': 'corr-2' }),
        // AWS's invocation record with the invocation's records, then one with offsets only.
        { key: null, value: JSON.stringify(invocationRecord) },
        { key: null, value: JSON.stringify(metadataOnly) },
      ],
    });
  } finally {
    await producer.disconnect();
  }

  const log: string[] = [];
  const replayed = await replayDeadLetters({
    brokers,
    prefix,
    topics: [TOPICS.orderPlaced],
    log: (line) => log.push(line),
  });
  expect(replayed).toEqual({ [source]: 4 });
  expect(log).toEqual([
    expect.stringMatching(
      new RegExp(
        `${dlq} partition \\d offset \\d: not replayed, an invocation record without the records \\(RecordAgeExceeded; ${source.replace(/\./g, '\\.')}-0 offsets 7\\.\\.8\\)`,
      ),
    ),
    `${dlq} → ${source}: 4 record(s)`,
  ]);

  const back = await readAll(source, 4);
  const byKey = Object.fromEntries(back.map((r) => [r.key, r]));
  expect(back).toHaveLength(4);
  expect(byKey['order-1']).toEqual({ ...failedRecord(1), headers: { 'correlation-id': 'corr-1' } });
  expect(byKey['order-2']).toEqual({ ...failedRecord(2), headers: { 'correlation-id': 'corr-2' } });
  expect(byKey['order-3']).toEqual({ ...failedRecord(3), headers: { 'correlation-id': 'corr-ë-3' } });
  expect(byKey['order-4']).toEqual({ ...failedRecord(4), headers: {} });

  // Once: a second run finds nothing new, and nothing more reached the source topic.
  expect(await replayDeadLetters({ brokers, prefix, topics: [TOPICS.orderPlaced], log: () => {} })).toEqual({
    [source]: 0,
  });
  expect(await end(source)).toBe(4);
}, 90_000);
